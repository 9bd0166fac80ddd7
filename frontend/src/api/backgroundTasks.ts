import { apiGet } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Page, StateType, TaskRun } from './types';

/**
 * Background task runs come from `task-runs/?background=true`: unlike `background-tasks/`, it
 * filters by state on the server. Neither endpoint filters by task name yet, so the page does.
 */
export function fetchBackgroundTaskRuns(
  ref: WorkspaceRef,
  stateTypes: readonly StateType[],
  pageUrl?: string,
): Promise<Page<TaskRun>> {
  return apiGet<Page<TaskRun>>(
    pageUrl ?? wsPath(ref, 'task-runs/', { background: true, state_type: stateTypes, page_size: 200 }),
  );
}
