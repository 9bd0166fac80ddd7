import { apiDelete, apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Page } from './types';

/*
 * Hand-written until the next `npm run gen:api`: the generated schema does not cover the
 * automations API yet. Shapes follow docs/automations.md and the serializers in
 * controlplane/automations/api/serializers.py.
 */

/** An event name pattern, or one that also filters that side's resource labels. */
export type EventSpec = string | { event: string; match?: LabelFilter; match_related?: LabelFilter };
export type LabelFilter = Record<string, string | string[]>;

export interface EventTrigger {
  type: 'event';
  posture?: 'reactive' | 'proactive';
  match?: LabelFilter;
  match_related?: LabelFilter;
  after?: EventSpec[];
  expect?: EventSpec[];
  for_each?: string[];
  threshold?: number;
  within?: number;
}

export interface CompoundTrigger {
  type: 'compound';
  require?: 'any' | 'all' | number;
  triggers: Trigger[];
  within?: number;
}

export interface SequenceTrigger {
  type: 'sequence';
  triggers: Trigger[];
  within?: number;
}

export type Trigger = EventTrigger | CompoundTrigger | SequenceTrigger;

export interface SendNotificationAction {
  type: 'send-notification';
  block_id: string;
  subject?: string;
  body?: string;
  to?: string[];
}

export interface RunDeploymentAction {
  type: 'run-deployment';
  deployment_id?: string;
  parameters?: Record<string, unknown>;
}

/** Other action types (pause-deployment, call-webhook, …) the form does not build but lists show. */
export interface OtherAction {
  type: string;
  [field: string]: unknown;
}

export type AutomationAction = SendNotificationAction | RunDeploymentAction | OtherAction;

export interface Automation {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  trigger: Trigger;
  actions: AutomationAction[];
  sla_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface AutomationCreateRequest {
  name: string;
  description?: string;
  enabled?: boolean;
  trigger: Trigger;
  actions: AutomationAction[];
}

export interface DeliveryAttempt {
  attempt: number;
  target: string;
  outcome: 'delivered' | 'failed' | 'refused';
  status_code: number | null;
  error: string;
  duration_ms: number | null;
  created_at: string;
}

export interface ActionRun {
  id: string;
  index: number;
  type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  finished_at: string | null;
  result: unknown;
  error: string;
  deliveries: DeliveryAttempt[];
}

export interface Firing {
  id: string;
  automation_id: string;
  automation_name: string;
  reason: string;
  triggering_event: { id?: string; event?: string; [field: string]: unknown } | null;
  created_at: string;
  action_runs: ActionRun[];
}

export function fetchAutomations(ref: WorkspaceRef): Promise<Page<Automation>> {
  return apiGet<Page<Automation>>(wsPath(ref, 'automations/', { page_size: 200 }));
}

export function fetchAutomation(ref: WorkspaceRef, id: string): Promise<Automation> {
  return apiGet<Automation>(wsPath(ref, `automations/${id}/`));
}

export function createAutomation(ref: WorkspaceRef, body: AutomationCreateRequest): Promise<Automation> {
  return apiPost<Automation>(wsPath(ref, 'automations/'), body);
}

export function updateAutomation(ref: WorkspaceRef, id: string, body: Partial<AutomationCreateRequest>): Promise<Automation> {
  return apiPatch<Automation>(wsPath(ref, `automations/${id}/`), body);
}

export function deleteAutomation(ref: WorkspaceRef, id: string): Promise<void> {
  return apiDelete(wsPath(ref, `automations/${id}/`));
}

export function pauseAutomation(ref: WorkspaceRef, id: string): Promise<Automation> {
  return apiPost<Automation>(wsPath(ref, `automations/${id}/pause/`));
}

export function resumeAutomation(ref: WorkspaceRef, id: string): Promise<Automation> {
  return apiPost<Automation>(wsPath(ref, `automations/${id}/resume/`));
}

export function fetchFirings(ref: WorkspaceRef, automationId: string): Promise<Page<Firing>> {
  return apiGet<Page<Firing>>(wsPath(ref, 'automation-firings/', { automation_id: automationId, page_size: 50 }));
}
