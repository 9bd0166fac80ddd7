import { describe, expect, it } from 'vitest';
import { buildAutomationRequest, EMPTY_FORM, triggerSummary } from './automationForm';

describe('buildAutomationRequest', () => {
  it('builds an event trigger about one deployment and a notification', () => {
    const result = buildAutomationRequest({
      ...EMPTY_FORM,
      name: ' Failed runs to Slack ',
      events: 'tether.flow-run.Failed, tether.flow-run.Crashed',
      deploymentId: 'd1',
      blockId: 'b1',
      subject: 'S',
      body: 'B',
    });
    expect(result).toEqual({
      ok: true,
      request: {
        name: 'Failed runs to Slack',
        trigger: {
          type: 'event',
          expect: ['tether.flow-run.Failed', 'tether.flow-run.Crashed'],
          match_related: { 'tether.resource.id': 'tether.deployment.d1' },
        },
        actions: [{ type: 'send-notification', block_id: 'b1', subject: 'S', body: 'B' }],
      },
    });
  });

  it('asks for recipients when the block sends email', () => {
    const values = { ...EMPTY_FORM, name: 'mail', blockId: 'b1' };
    expect(buildAutomationRequest(values, true)).toEqual({
      ok: false,
      errors: { to: 'An email notification needs at least one address.' },
    });
    const built = buildAutomationRequest({ ...values, to: 'a@x.test, b@x.test' }, true);
    expect(built.ok && built.request.actions[0]).toMatchObject({ to: ['a@x.test', 'b@x.test'] });
  });

  it('runs a deployment with JSON parameters, or the triggering one when none is picked', () => {
    const values = { ...EMPTY_FORM, name: 'rerun', action: 'run-deployment' as const, parameters: '{"who": "{{ flow_run.name }}"}' };
    const built = buildAutomationRequest({ ...values, runDeploymentId: 'd2' });
    expect(built.ok && built.request.actions).toEqual([
      { type: 'run-deployment', deployment_id: 'd2', parameters: { who: '{{ flow_run.name }}' } },
    ]);
    const triggering = buildAutomationRequest(values);
    expect(triggering.ok && triggering.request.actions).toEqual([
      { type: 'run-deployment', parameters: { who: '{{ flow_run.name }}' } },
    ]);
    // Any deployment: no filter at all in the trigger.
    expect(triggering.ok && triggering.request.trigger).toEqual({ type: 'event', expect: ['tether.flow-run.Failed'] });
  });

  it('names every field to fix', () => {
    const result = buildAutomationRequest({ ...EMPTY_FORM, events: ' , ', action: 'run-deployment', parameters: '[1]' });
    expect(result.ok).toBe(false);
    expect(!result.ok && Object.keys(result.errors).sort()).toEqual(['events', 'name', 'parameters']);
    const broken = buildAutomationRequest({ ...EMPTY_FORM, name: 'x', action: 'run-deployment', parameters: '{oops' });
    expect(!broken.ok && broken.errors.parameters).toBe('Parameters are not valid JSON.');
  });
});

describe('triggerSummary', () => {
  it('reads event, proactive and composite triggers', () => {
    expect(
      triggerSummary({ type: 'event', expect: ['a.b'], match_related: { 'tether.resource.id': 'tether.deployment.d1' } }),
    ).toBe('When a.b (tether.resource.id=tether.deployment.d1)');
    expect(
      triggerSummary({ type: 'event', posture: 'proactive', within: 10, after: ['x'], expect: [{ event: 'file.arrived' }] }),
    ).toBe('When file.arrived does not arrive within 10 s after x');
    expect(
      triggerSummary({ type: 'compound', require: 'any', triggers: [{ type: 'event', expect: ['a'] }, { type: 'event', match: { k: ['1', '2'] } }] }),
    ).toBe('Any of: When a; When any event (k=1|2)');
    expect(triggerSummary({ type: 'sequence', triggers: [{ type: 'event', expect: ['a'] }, { type: 'event', expect: ['b'] }] })).toBe(
      'When a, then When b',
    );
  });
});
