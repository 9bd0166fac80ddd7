import { describe, expect, it } from 'vitest';
import type { Automation } from '../../api/automations';
import {
  buildAutomationRequest,
  buildJsonAutomationRequest,
  EMPTY_FORM,
  formFromAutomation,
  triggerSummary,
} from './automationForm';

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

describe('formFromAutomation', () => {
  const stored: Pick<Automation, 'name' | 'trigger' | 'actions'> = {
    name: 'Failed runs to mail',
    trigger: {
      type: 'event',
      expect: ['tether.flow-run.Failed', 'tether.flow-run.Crashed'],
      match_related: { 'tether.resource.id': 'tether.deployment.d1' },
    },
    actions: [{ type: 'send-notification', block_id: 'b1', subject: 'S', body: 'B', to: ['a@x.test'] }],
  };

  it('reads a guided automation back, and rebuilds the same request', () => {
    const values = formFromAutomation(stored);
    expect(values).toMatchObject({
      name: 'Failed runs to mail',
      events: 'tether.flow-run.Failed, tether.flow-run.Crashed',
      deploymentId: 'd1',
      action: 'send-notification',
      blockId: 'b1',
      to: 'a@x.test',
    });
    expect(values && buildAutomationRequest(values, true)).toEqual({ ok: true, request: stored });
  });

  it('reads a run-deployment action back', () => {
    const values = formFromAutomation({
      name: 'rerun',
      trigger: { type: 'event', expect: ['file.arrived'] },
      actions: [{ type: 'run-deployment', parameters: { who: '{{ event.id }}' } }],
    });
    expect(values).toMatchObject({ deploymentId: '', action: 'run-deployment', runDeploymentId: '' });
    expect(values && buildAutomationRequest(values)).toEqual({
      ok: true,
      request: {
        name: 'rerun',
        trigger: { type: 'event', expect: ['file.arrived'] },
        actions: [{ type: 'run-deployment', parameters: { who: '{{ event.id }}' } }],
      },
    });
  });

  it('leaves to JSON what the guided form would lose', () => {
    const proactive = { ...stored, trigger: { type: 'event' as const, posture: 'proactive' as const, expect: ['x'], within: 60 } };
    const threshold = { ...stored, trigger: { type: 'event' as const, expect: ['x'], threshold: 3, within: 60 } };
    const compound = { ...stored, trigger: { type: 'compound' as const, triggers: [] } };
    const twoActions = { ...stored, actions: [...stored.actions, { type: 'pause-deployment' }] };
    const otherFilter = { ...stored, trigger: { type: 'event' as const, expect: ['x'], match_related: { 'tether.resource.role': 'flow' } } };
    const webhook = { ...stored, actions: [{ type: 'call-webhook', block_id: 'w1' }] };
    for (const automation of [proactive, threshold, compound, twoActions, otherFilter, webhook]) {
      expect(formFromAutomation(automation)).toBeUndefined();
    }
  });
});

describe('buildJsonAutomationRequest', () => {
  it('parses the trigger and actions, or says which is wrong', () => {
    expect(
      buildJsonAutomationRequest({ name: ' n ', description: 'd', trigger: '{"type": "sequence", "triggers": []}', actions: '[{"type": "x"}]' }),
    ).toEqual({
      ok: true,
      request: { name: 'n', description: 'd', trigger: { type: 'sequence', triggers: [] }, actions: [{ type: 'x' }] },
    });
    const broken = buildJsonAutomationRequest({ name: '', description: '', trigger: '{"type":', actions: '{"type": "x"}' });
    expect(!broken.ok && Object.keys(broken.errors).sort()).toEqual(['actions', 'name', 'trigger']);
  });
});
