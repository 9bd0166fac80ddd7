import { describe, expect, it } from 'vitest';
import type { Sla } from '../../api/types';
import { buildSlaRequest, describeSla, emptySlaForm, slaToForm, splitDuration, type SlaFormValues } from './slaForm';

const base: SlaFormValues = { ...emptySlaForm('d1', 'Europe/Paris'), name: 'on time', blockId: 'b1' };

function sla(overrides: Partial<Sla>): Sla {
  return {
    id: 's1',
    deployment_id: 'd1',
    name: 'on time',
    kind: 'start_within',
    seconds: 600,
    time_of_day: null,
    timezone: 'UTC',
    actions: [],
    enabled: true,
    automation_id: 'a1',
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

describe('buildSlaRequest', () => {
  it('maps "must start within 10 minutes" with a notification', () => {
    expect(buildSlaRequest('d1', { ...base, amount: '10', unit: 'minutes', subject: 'S', body: 'B' })).toEqual({
      ok: true,
      request: {
        deployment_id: 'd1',
        name: 'on time',
        kind: 'start_within',
        seconds: 600,
        time_of_day: null,
        actions: [{ type: 'send-notification', block_id: 'b1', subject: 'S', body: 'B' }],
        enabled: true,
      },
    });
  });

  it('maps "must complete within 1.5 hours" with a run of a deployment only', () => {
    const result = buildSlaRequest('d1', {
      ...base,
      kind: 'complete_within',
      amount: '1.5',
      unit: 'hours',
      notify: false,
      runDeployment: true,
      runDeploymentId: 'd2',
      parameters: '{"full": true}',
      enabled: false,
    });
    expect(result).toEqual({
      ok: true,
      request: {
        deployment_id: 'd1',
        name: 'on time',
        kind: 'complete_within',
        seconds: 5400,
        time_of_day: null,
        actions: [{ type: 'run-deployment', deployment_id: 'd2', parameters: { full: true } }],
        enabled: false,
      },
    });
  });

  it('maps freshness to a time of day in a zone, with both actions and an email recipient', () => {
    const result = buildSlaRequest(
      'd1',
      { ...base, kind: 'freshness', timeOfDay: '06:30', timezone: ' Europe/Paris ', to: 'a@x.test, b@x.test', runDeployment: true },
      true,
    );
    expect(result.ok && result.request).toEqual({
      deployment_id: 'd1',
      name: 'on time',
      kind: 'freshness',
      seconds: null,
      time_of_day: '06:30',
      timezone: 'Europe/Paris',
      actions: [
        { type: 'send-notification', block_id: 'b1', subject: base.subject, body: base.body, to: ['a@x.test', 'b@x.test'] },
        { type: 'run-deployment', deployment_id: 'd1', parameters: {} },
      ],
      enabled: true,
    });
  });

  it('names every field to fix', () => {
    const result = buildSlaRequest('d1', { ...base, name: ' ', amount: '0', blockId: '' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors).sort()).toEqual(['amount', 'blockId', 'name']);
    const fresh = buildSlaRequest('d1', { ...base, kind: 'freshness', timeOfDay: '25:00', timezone: '' });
    expect(!fresh.ok && Object.keys(fresh.errors).sort()).toEqual(['timeOfDay', 'timezone']);
    const none = buildSlaRequest('d1', { ...base, notify: false });
    expect(!none.ok && none.errors.actions).toMatch(/at least one action/);
    const mail = buildSlaRequest('d1', base, true);
    expect(!mail.ok && mail.errors.to).toMatch(/address/);
    const json = buildSlaRequest('d1', { ...base, runDeployment: true, parameters: '[1]' });
    expect(!json.ok && json.errors.parameters).toMatch(/JSON object/);
  });
});

describe('slaToForm', () => {
  it('reads a stored SLA back into the form, keeping actions it does not edit', () => {
    const webhook = { type: 'call-webhook', block_id: 'w1' };
    const values = slaToForm(
      sla({
        kind: 'freshness',
        seconds: null,
        time_of_day: '06:30:00',
        timezone: 'Asia/Tokyo',
        enabled: false,
        actions: [
          { type: 'send-notification', block_id: 'b9', subject: 'stale', body: '{{ firing.reason }}', to: ['ops@x.test'] },
          { type: 'run-deployment', deployment_id: 'd7', parameters: { n: 1 } },
          webhook,
        ],
      }),
      'd1',
    );
    expect(values).toMatchObject({
      name: 'on time',
      kind: 'freshness',
      timeOfDay: '06:30',
      timezone: 'Asia/Tokyo',
      enabled: false,
      notify: true,
      blockId: 'b9',
      subject: 'stale',
      to: 'ops@x.test',
      runDeployment: true,
      runDeploymentId: 'd7',
      otherActions: [webhook],
    });
    const rebuilt = buildSlaRequest('d1', values, true);
    expect(rebuilt.ok && rebuilt.request.actions).toEqual([
      { type: 'send-notification', block_id: 'b9', subject: 'stale', body: '{{ firing.reason }}', to: ['ops@x.test'] },
      { type: 'run-deployment', deployment_id: 'd7', parameters: { n: 1 } },
      webhook,
    ]);
  });

  it('shows durations in the largest exact unit', () => {
    expect(splitDuration(7200)).toEqual({ amount: '2', unit: 'hours' });
    expect(splitDuration(5400)).toEqual({ amount: '90', unit: 'minutes' });
    expect(splitDuration(45)).toEqual({ amount: '45', unit: 'seconds' });
    expect(slaToForm(sla({ seconds: 172800, actions: [] }), 'd1')).toMatchObject({ amount: '2', unit: 'days', notify: false });
  });
});

describe('describeSla', () => {
  it('says what each kind promises', () => {
    expect(describeSla(sla({}))).toBe('Each run starts within 10 min of its scheduled time');
    expect(describeSla(sla({ kind: 'complete_within', seconds: 7200 }))).toBe('Each run completes within 2 h of starting');
    expect(describeSla(sla({ kind: 'freshness', seconds: null, time_of_day: '06:30:00', timezone: 'Europe/Paris' }))).toBe(
      'A completed run by 06:30 Europe/Paris each day',
    );
  });
});
