/**
 * Short names for the generated OpenAPI types (`schema.d.ts`, from `npm run gen:api`).
 * Hand-written code imports from here, never from the generated file, so a renamed
 * schema is fixed in one place.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Agent = Schemas['Agent'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type ApiKeyCreateRequest = Schemas['ApiKeyCreateRequest'];
export type Artifact = Schemas['Artifact'];
export type AuditEntry = Schemas['AuditEntry'];
export type BatchOutcome = Schemas['BatchOutcome'];
export type BlockDocument = Schemas['BlockDocument'];
export type BlockDocumentCreateRequest = Schemas['BlockDocumentCreateRequest'];
export type BlockReveal = Schemas['BlockReveal'];
export type BlockType = Schemas['BlockType'];
export type ConcurrencyLimit = Schemas['ConcurrencyLimit'];
export type ConcurrencyLimitRequest = Schemas['ConcurrencyLimitRequest'];
/** An event of the event log (`Event` would shadow the DOM's). */
export type TetherEvent = Schemas['Event'];
export type EventCount = Schemas['EventCount'];
export type Deployment = Schemas['Deployment'];
export type FlowRun = Schemas['FlowRun'];
export type FlowRunCreateRequest = Schemas['FlowRunCreateRequest'];
export type Invitation = Schemas['Invitation'];
export type InvitationCreateRequest = Schemas['InvitationCreateRequest'];
export type LogLine = Schemas['Log'];
export type OrchestrationResult = Schemas['OrchestrationResult'];
export type OrgMember = Schemas['OrgMember'];
export type Organization = Schemas['Organization'];
export type OrgRole = Schemas['OrgRoleEnum'];
export type Profile = Schemas['Profile'];
export type Schedule = Schemas['Schedule'];
export type ScheduleRequest = Schemas['ScheduleRequest'];
export type ServiceAccount = Schemas['ServiceAccount'];
export type Sla = Schemas['Sla'];
export type SlaKind = Schemas['SlaKindEnum'];
export type SlaWriteRequest = Schemas['SlaWriteRequest'];
export type StateHistory = Schemas['StateHistory'];
export type StateType = Schemas['StateTypeEnum'];
export type TaskRun = Schemas['TaskRun'];
export type Variable = Schemas['Variable'];
export type VariableRequest = Schemas['VariableRequest'];
export type WorkPool = Schemas['WorkPool'];
export type WorkPoolCreateRequest = Schemas['WorkPoolCreateRequest'];
/** The schema's pool types, plus the serverless ones until the schema is regenerated with them. */
export type WorkPoolType = Schemas['WorkPoolTypeEnum'] | 'ecs' | 'cloud-run' | 'aci';
export type WorkQueue = Schemas['WorkQueue'];
export type Workspace = Schemas['Workspace'];
export type WorkspaceAccess = Schemas['WorkspaceAccess'];
export type WorkspaceMember = Schemas['WorkspaceMember'];
export type WorkspaceMemberCreateRequest = Schemas['WorkspaceMemberCreateRequest'];
export type WorkspaceRole = Schemas['WorkspaceRoleEnum'];

/** Every list endpoint answers this cursor page (`PaginatedFlowRunList` etc. in the schema). */
export interface Page<T> {
  next?: string | null;
  previous?: string | null;
  results: T[];
}

export const STATE_TYPES: readonly StateType[] = [
  'SCHEDULED',
  'PENDING',
  'RUNNING',
  'PAUSED',
  'CANCELLING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'CRASHED',
];

export const TERMINAL_STATE_TYPES: ReadonlySet<StateType> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED']);

export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];
export const WORKSPACE_ROLES: readonly WorkspaceRole[] = ['owner', 'developer', 'runner', 'viewer', 'worker'];
