/**
 * The guided form's common case: an event trigger (event names, optionally about one
 * deployment) and one action. Builds the JSON docs/automations.md documents, and reads
 * any trigger back as a one-line summary for lists.
 */
import type {
  Automation,
  AutomationAction,
  AutomationCreateRequest,
  EventSpec,
  LabelFilter,
  Trigger,
} from '../../api/automations';

export type ActionKind = 'send-notification' | 'run-deployment';

export interface AutomationFormValues {
  name: string;
  /** Event names or patterns, separated by commas or new lines. */
  events: string;
  /** Only events about runs of this deployment; empty: any. */
  deploymentId: string;
  action: ActionKind;
  blockId: string;
  subject: string;
  body: string;
  /** Addresses for an email (SMTP) block, separated by commas. */
  to: string;
  /** Empty: the deployment of the triggering event. */
  runDeploymentId: string;
  /** A JSON object; values may be templates. */
  parameters: string;
}

export const DEFAULT_EVENT = 'tether.flow-run.Failed';

export const EMPTY_FORM: AutomationFormValues = {
  name: '',
  events: DEFAULT_EVENT,
  deploymentId: '',
  action: 'send-notification',
  blockId: '',
  subject: '{{ flow_run.name }} is {{ flow_run.state }}',
  body: '{{ flow_run.url }}',
  to: '',
  runDeploymentId: '',
  parameters: '{}',
};

export type FormErrors = Partial<Record<keyof AutomationFormValues, string>>;

function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** The label value events carry for a deployment they are about (`tether.deployment.<id>`). */
export function deploymentResourceId(deploymentId: string): string {
  return `tether.deployment.${deploymentId}`;
}

function buildAction(
  values: AutomationFormValues,
  needsRecipients: boolean,
  errors: FormErrors,
): AutomationAction | undefined {
  if (values.action === 'send-notification') {
    if (!values.blockId) errors.blockId = 'Pick the block to notify through.';
    const to = splitList(values.to);
    if (needsRecipients && to.length === 0) errors.to = 'An email notification needs at least one address.';
    return {
      type: 'send-notification',
      block_id: values.blockId,
      subject: values.subject,
      body: values.body,
      ...(needsRecipients && { to }),
    };
  }
  let parameters: unknown;
  try {
    parameters = JSON.parse(values.parameters.trim() || '{}');
  } catch {
    errors.parameters = 'Parameters are not valid JSON.';
    return undefined;
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    errors.parameters = 'Parameters are a JSON object, e.g. {"who": "{{ flow_run.name }}"}.';
    return undefined;
  }
  return {
    type: 'run-deployment',
    ...(values.runDeploymentId && { deployment_id: values.runDeploymentId }),
    parameters: parameters as Record<string, unknown>,
  };
}

/**
 * The create request, or the fields to fix. `needsRecipients` is true when the chosen block
 * sends email (an SMTP block), which the server requires `to` for.
 */
export function buildAutomationRequest(
  values: AutomationFormValues,
  needsRecipients = false,
): { ok: true; request: AutomationCreateRequest } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = 'Give the automation a name.';
  const expect = splitList(values.events);
  if (expect.length === 0) errors.events = 'Name at least one event, e.g. tether.flow-run.Failed.';
  const action = buildAction(values, needsRecipients, errors);
  if (Object.keys(errors).length > 0 || !action) return { ok: false, errors };
  const trigger: Trigger = {
    type: 'event',
    expect,
    ...(values.deploymentId && {
      match_related: { 'tether.resource.id': deploymentResourceId(values.deploymentId) },
    }),
  };
  return { ok: true, request: { name, trigger, actions: [action] } };
}

function specName(spec: EventSpec): string {
  return typeof spec === 'string' ? spec : spec.event;
}

function filterSummary(filter: LabelFilter | undefined): string {
  if (!filter) return '';
  return Object.entries(filter)
    .map(([label, value]) => `${label}=${Array.isArray(value) ? value.join('|') : value}`)
    .join(', ');
}

/** One line a person can read in a list: "When tether.flow-run.Failed (about tether.deployment.…)". */
export function triggerSummary(trigger: Trigger): string {
  if (trigger.type === 'sequence') return trigger.triggers.map(triggerSummary).join(', then ');
  if (trigger.type === 'compound') {
    const require = trigger.require ?? 'all';
    const label = require === 'any' ? 'Any of' : require === 'all' ? 'All of' : `${String(require)} of`;
    return `${label}: ${trigger.triggers.map(triggerSummary).join('; ')}`;
  }
  const expected = (trigger.expect ?? []).map(specName);
  const after = (trigger.after ?? []).map(specName);
  const about = [filterSummary(trigger.match), filterSummary(trigger.match_related)].filter(Boolean).join(', ');
  const events = expected.length > 0 ? expected.join(' or ') : 'any event';
  const head =
    trigger.posture === 'proactive'
      ? `When ${events} does not arrive within ${String(trigger.within ?? 0)} s`
      : `When ${events}`;
  return [head, after.length > 0 ? `after ${after.join(' or ')}` : '', about ? `(${about})` : '']
    .filter(Boolean)
    .join(' ');
}

const DEPLOYMENT_RESOURCE = /^tether\.deployment\.(.+)$/;

function isStringRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The deployment id a `match_related` names, '' for none, undefined when it says more than that. */
function deploymentOfFilter(filter: LabelFilter | undefined): string | undefined {
  if (filter === undefined) return '';
  const keys = Object.keys(filter);
  const value = filter['tether.resource.id'];
  if (keys.length !== 1 || typeof value !== 'string') return undefined;
  return DEPLOYMENT_RESOURCE.exec(value)?.[1];
}

const GUIDED_TRIGGER_KEYS = new Set(['type', 'expect', 'match_related', 'posture']);

function guidedAction(action: AutomationAction | undefined): Partial<AutomationFormValues> | undefined {
  if (!action) return undefined;
  if (action.type === 'send-notification') {
    const { block_id, subject, body, to } = action as Record<string, unknown>;
    if (typeof block_id !== 'string') return undefined;
    if (to !== undefined && !(Array.isArray(to) && to.every((item) => typeof item === 'string'))) return undefined;
    return {
      action: 'send-notification',
      blockId: block_id,
      subject: typeof subject === 'string' ? subject : '',
      body: typeof body === 'string' ? body : '',
      to: Array.isArray(to) ? to.join(', ') : '',
    };
  }
  if (action.type === 'run-deployment') {
    const { deployment_id, parameters } = action as Record<string, unknown>;
    if (deployment_id !== undefined && typeof deployment_id !== 'string') return undefined;
    if (parameters !== undefined && !isStringRecord(parameters)) return undefined;
    return {
      action: 'run-deployment',
      runDeploymentId: deployment_id ?? '',
      parameters: JSON.stringify(parameters ?? {}, null, 2),
    };
  }
  return undefined;
}

/**
 * The guided form's values for an automation it can show without losing anything (a reactive
 * event trigger on plain names, optionally about one deployment, and one notification or
 * run-deployment action), or undefined: such an automation is edited as JSON.
 */
export function formFromAutomation(automation: Pick<Automation, 'name' | 'trigger' | 'actions'>): AutomationFormValues | undefined {
  const { trigger, actions } = automation;
  if (trigger.type !== 'event' || (trigger.posture ?? 'reactive') !== 'reactive') return undefined;
  if (Object.keys(trigger).some((key) => !GUIDED_TRIGGER_KEYS.has(key))) return undefined;
  const expect = trigger.expect ?? [];
  if (expect.length === 0 || !expect.every((spec) => typeof spec === 'string')) return undefined;
  const deploymentId = deploymentOfFilter(trigger.match_related);
  if (deploymentId === undefined || actions.length !== 1) return undefined;
  const action = guidedAction(actions[0]);
  if (!action) return undefined;
  return { ...EMPTY_FORM, name: automation.name, events: expect.join(', '), deploymentId, ...action };
}

export interface JsonAutomationValues {
  name: string;
  description: string;
  trigger: string;
  actions: string;
}

export type JsonFormErrors = Partial<Record<keyof JsonAutomationValues, string>>;

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The request for an automation edited as JSON; the server checks the trigger and actions in depth. */
export function buildJsonAutomationRequest(
  values: JsonAutomationValues,
): { ok: true; request: AutomationCreateRequest } | { ok: false; errors: JsonFormErrors } {
  const errors: JsonFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = 'Give the automation a name.';
  const trigger = parseJson(values.trigger);
  if (!trigger.ok || !isStringRecord(trigger.value) || typeof trigger.value['type'] !== 'string') {
    errors.trigger = 'The trigger is a JSON object with a "type" (event, compound or sequence).';
  }
  const actions = parseJson(values.actions);
  if (!actions.ok || !Array.isArray(actions.value) || !actions.value.every(isStringRecord)) {
    errors.actions = 'Actions are a JSON list of objects, each with a "type".';
  }
  if (Object.keys(errors).length > 0 || !trigger.ok || !actions.ok) return { ok: false, errors };
  return {
    ok: true,
    request: {
      name,
      description: values.description,
      trigger: trigger.value as Trigger,
      actions: actions.value as AutomationAction[],
    },
  };
}
