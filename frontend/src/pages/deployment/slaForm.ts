/**
 * The SLA form's logic: the three kinds in words people use, mapped to the `slas/` request
 * (docs/automations.md, "SLAs on deployments") and back, so an SLA can be edited in the form.
 */
import type { AutomationAction } from '../../api/automations';
import type { Sla, SlaKind, SlaWriteRequest } from '../../api/types';

export type DurationUnit = 'seconds' | 'minutes' | 'hours' | 'days';

export const UNIT_SECONDS: Record<DurationUnit, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };

export interface SlaFormValues {
  name: string;
  kind: SlaKind;
  /** start_within / complete_within: an amount of `unit`. */
  amount: string;
  unit: DurationUnit;
  /** freshness: HH:MM in `timezone`. */
  timeOfDay: string;
  timezone: string;
  enabled: boolean;
  notify: boolean;
  blockId: string;
  subject: string;
  body: string;
  /** Addresses for an SMTP block, separated by commas. */
  to: string;
  runDeployment: boolean;
  runDeploymentId: string;
  /** A JSON object. */
  parameters: string;
  /** Actions the form does not edit (e.g. call-webhook), kept as they are. */
  otherActions: AutomationAction[];
}

export type SlaFormErrors = Partial<Record<keyof SlaFormValues | 'actions', string>>;

export const DEFAULT_SLA_SUBJECT = 'SLA missed: {{ deployment.flow }}/{{ deployment.name }}';
export const DEFAULT_SLA_BODY = '{{ firing.reason }}';

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function emptySlaForm(deploymentId: string, timezone = 'UTC'): SlaFormValues {
  return {
    name: '',
    kind: 'start_within',
    amount: '10',
    unit: 'minutes',
    timeOfDay: '06:00',
    timezone,
    enabled: true,
    notify: true,
    blockId: '',
    subject: DEFAULT_SLA_SUBJECT,
    body: DEFAULT_SLA_BODY,
    to: '',
    runDeployment: false,
    runDeploymentId: deploymentId,
    parameters: '{}',
    otherActions: [],
  };
}

function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

function parseParameters(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text.trim() || '{}') as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function buildActions(values: SlaFormValues, needsRecipients: boolean, errors: SlaFormErrors): AutomationAction[] {
  const actions: AutomationAction[] = [];
  if (values.notify) {
    if (!values.blockId) errors.blockId = 'Pick the block to notify through.';
    const to = splitList(values.to);
    if (needsRecipients && to.length === 0) errors.to = 'An email notification needs at least one address.';
    actions.push({
      type: 'send-notification',
      block_id: values.blockId,
      subject: values.subject,
      body: values.body,
      ...(needsRecipients && { to }),
    });
  }
  if (values.runDeployment) {
    if (!values.runDeploymentId) errors.runDeploymentId = 'Pick the deployment to run.';
    const parameters = parseParameters(values.parameters);
    if (!parameters) errors.parameters = 'Parameters are a JSON object, e.g. {"full": true}.';
    actions.push({ type: 'run-deployment', deployment_id: values.runDeploymentId, parameters: parameters ?? {} });
  }
  actions.push(...values.otherActions);
  if (actions.length === 0) errors.actions = 'Pick at least one action: a notification, a run of a deployment, or both.';
  return actions;
}

/**
 * The `slas/` request for the form, or the fields to fix. `needsRecipients`: the chosen
 * notification block sends email (SMTP), which needs `to`.
 */
export function buildSlaRequest(
  deploymentId: string,
  values: SlaFormValues,
  needsRecipients = false,
): { ok: true; request: SlaWriteRequest } | { ok: false; errors: SlaFormErrors } {
  const errors: SlaFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = 'Give the SLA a name, e.g. "starts on time".';
  let seconds: number | null = null;
  let timeOfDay: string | null = null;
  let timezone: string | undefined;
  if (values.kind === 'freshness') {
    if (!TIME_OF_DAY.test(values.timeOfDay)) errors.timeOfDay = 'A time of day as HH:MM, e.g. 06:30.';
    timezone = values.timezone.trim();
    if (!timezone) errors.timezone = 'A time zone, e.g. Europe/Paris or UTC.';
    timeOfDay = values.timeOfDay;
  } else {
    const amount = Number(values.amount);
    seconds = Math.round(amount * UNIT_SECONDS[values.unit]);
    if (!values.amount.trim() || !Number.isFinite(amount) || seconds < 1) {
      errors.amount = 'A duration of at least one second.';
    }
  }
  const actions = buildActions(values, needsRecipients, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      deployment_id: deploymentId,
      name,
      kind: values.kind,
      seconds,
      time_of_day: timeOfDay,
      ...(timezone !== undefined && { timezone }),
      actions,
      enabled: values.enabled,
    },
  };
}

/** The largest unit that states `seconds` exactly: 5400 → 90 minutes, 7200 → 2 hours. */
export function splitDuration(seconds: number): { amount: string; unit: DurationUnit } {
  const units: DurationUnit[] = ['days', 'hours', 'minutes'];
  for (const unit of units) {
    if (seconds % UNIT_SECONDS[unit] === 0) return { amount: String(seconds / UNIT_SECONDS[unit]), unit };
  }
  return { amount: String(seconds), unit: 'seconds' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The form's values for a stored SLA; the first notification and run-deployment are editable. */
export function slaToForm(sla: Sla, deploymentId: string): SlaFormValues {
  const values = emptySlaForm(deploymentId, sla.timezone || 'UTC');
  values.name = sla.name;
  values.kind = sla.kind;
  values.enabled = sla.enabled;
  values.notify = false;
  if (sla.seconds !== null) Object.assign(values, splitDuration(sla.seconds));
  if (sla.time_of_day) values.timeOfDay = sla.time_of_day.slice(0, 5);
  const actions = Array.isArray(sla.actions) ? (sla.actions as unknown[]).filter(isRecord) : [];
  for (const action of actions) {
    if (action['type'] === 'send-notification' && !values.notify && typeof action['block_id'] === 'string') {
      values.notify = true;
      values.blockId = action['block_id'];
      values.subject = typeof action['subject'] === 'string' ? action['subject'] : '';
      values.body = typeof action['body'] === 'string' ? action['body'] : '';
      values.to = Array.isArray(action['to']) ? action['to'].filter((item) => typeof item === 'string').join(', ') : '';
    } else if (action['type'] === 'run-deployment' && !values.runDeployment) {
      values.runDeployment = true;
      if (typeof action['deployment_id'] === 'string') values.runDeploymentId = action['deployment_id'];
      values.parameters = JSON.stringify(isRecord(action['parameters']) ? action['parameters'] : {}, null, 2);
    } else {
      values.otherActions.push(action as AutomationAction);
    }
  }
  return values;
}

/** "2 h", "90 min", "45 s": the duration as the form would write it. */
export function formatSlaDuration(seconds: number): string {
  const { amount, unit } = splitDuration(seconds);
  const short: Record<DurationUnit, string> = { seconds: 's', minutes: 'min', hours: 'h', days: 'd' };
  return `${amount} ${short[unit]}`;
}

/** One sentence for the list: what the SLA promises. */
export function describeSla(sla: Pick<Sla, 'kind' | 'seconds' | 'time_of_day' | 'timezone'>): string {
  if (sla.kind === 'freshness') {
    return `A completed run by ${(sla.time_of_day ?? '').slice(0, 5)} ${sla.timezone} each day`;
  }
  const duration = formatSlaDuration(sla.seconds ?? 0);
  return sla.kind === 'start_within'
    ? `Each run starts within ${duration} of its scheduled time`
    : `Each run completes within ${duration} of starting`;
}

/** The action types, for the list: "send-notification, run-deployment". */
export function slaActionTypes(sla: Pick<Sla, 'actions'>): string {
  const actions = Array.isArray(sla.actions) ? (sla.actions as unknown[]) : [];
  return actions
    .map((action) => (isRecord(action) && typeof action['type'] === 'string' ? action['type'] : '?'))
    .join(', ');
}
