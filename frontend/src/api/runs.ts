import { apiGet, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type {
  Artifact,
  BatchOutcome,
  FlowRun,
  FlowRunCreateRequest,
  LogLine,
  OrchestrationResult,
  Page,
  StateHistory,
  StateType,
  TaskRun,
} from './types';

export interface FlowRunFilters {
  stateTypes: StateType[];
  deploymentId: string;
  tags: string[];
}

export const NO_RUN_FILTERS: FlowRunFilters = { stateTypes: [], deploymentId: '', tags: [] };

function filterQuery(filters: FlowRunFilters) {
  return {
    state_type: filters.stateTypes.length ? filters.stateTypes.join(',') : undefined,
    deployment_id: filters.deploymentId,
    tag: filters.tags,
  };
}

/** A page of runs: the first for the filters, or the `next`/`previous` URL the server gave. */
export function fetchFlowRuns(ref: WorkspaceRef, filters: FlowRunFilters, pageUrl?: string): Promise<Page<FlowRun>> {
  return apiGet<Page<FlowRun>>(pageUrl ?? wsPath(ref, 'flow-runs/', filterQuery(filters)));
}

/** A short list for the dashboard; `query` uses the API's own filter names. */
export function fetchRecentRuns(
  ref: WorkspaceRef,
  query: {
    state_type?: string;
    state_name?: string;
    sort?: 'created' | '-created';
    expected_start_after?: string;
    expected_start_before?: string;
    page_size: number;
  },
): Promise<Page<FlowRun>> {
  return apiGet<Page<FlowRun>>(wsPath(ref, 'flow-runs/', query));
}

export function fetchRunCounts(ref: WorkspaceRef): Promise<Record<string, number>> {
  return apiGet<Record<string, number>>(wsPath(ref, 'flow-runs/counts/'));
}

export function fetchFlowRun(ref: WorkspaceRef, id: string): Promise<FlowRun> {
  return apiGet<FlowRun>(wsPath(ref, `flow-runs/${id}/`));
}

/** The whole state history, oldest first, as one plain list. */
export function fetchRunStates(ref: WorkspaceRef, id: string): Promise<StateHistory[]> {
  return apiGet<StateHistory[]>(wsPath(ref, `flow-runs/${id}/states/`));
}

export function fetchTaskRuns(ref: WorkspaceRef, flowRunId: string): Promise<Page<TaskRun>> {
  return apiGet<Page<TaskRun>>(wsPath(ref, 'task-runs/', { flow_run_id: flowRunId, page_size: 200 }));
}

export interface LogFilters {
  level: number;
  q: string;
}

export function fetchLogs(ref: WorkspaceRef, flowRunId: string, filters: LogFilters): Promise<Page<LogLine>> {
  return apiGet<Page<LogLine>>(
    wsPath(ref, `flow-runs/${flowRunId}/logs/`, {
      level: filters.level || undefined,
      q: filters.q.trim(),
      page_size: 1000,
    }),
  );
}

export function fetchArtifacts(ref: WorkspaceRef, flowRunId: string): Promise<Page<Artifact>> {
  return apiGet<Page<Artifact>>(wsPath(ref, 'artifacts/', { flow_run_id: flowRunId }));
}

export function createFlowRun(ref: WorkspaceRef, body: FlowRunCreateRequest): Promise<FlowRun> {
  return apiPost<FlowRun>(wsPath(ref, 'flow-runs/'), body);
}

export function cancelFlowRun(ref: WorkspaceRef, id: string): Promise<OrchestrationResult> {
  return apiPost<OrchestrationResult>(wsPath(ref, `flow-runs/${id}/cancel/`));
}

export function retryFlowRun(ref: WorkspaceRef, id: string): Promise<OrchestrationResult> {
  return apiPost<OrchestrationResult>(wsPath(ref, `flow-runs/${id}/retry/`));
}

// The server answers one outcome per id, as a plain list.
export function batchCancelRuns(ref: WorkspaceRef, ids: string[]): Promise<BatchOutcome[]> {
  return apiPost<BatchOutcome[]>(wsPath(ref, 'flow-runs/batch-cancel/'), { ids });
}

export function batchDeleteRuns(ref: WorkspaceRef, ids: string[]): Promise<BatchOutcome[]> {
  return apiPost<BatchOutcome[]>(wsPath(ref, 'flow-runs/batch-delete/'), { ids });
}
