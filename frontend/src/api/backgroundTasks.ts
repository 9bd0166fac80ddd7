import { apiGet } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Page, StateType, TaskRun } from './types';

export interface BackgroundTaskFilters {
  stateTypes: readonly StateType[];
  /** Runs whose task name contains this text, in any case. */
  taskName: string;
  /** Runs of exactly this task key. */
  taskKey: string;
}

/**
 * Background task runs come from `task-runs/?background=true`: unlike `background-tasks/`, it
 * filters by state, task key and task name on the server.
 */
export function fetchBackgroundTaskRuns(
  ref: WorkspaceRef,
  filters: BackgroundTaskFilters,
  pageUrl?: string,
): Promise<Page<TaskRun>> {
  return apiGet<Page<TaskRun>>(
    pageUrl ??
      wsPath(ref, 'task-runs/', {
        background: true,
        state_type: filters.stateTypes,
        task_key: filters.taskKey,
        task_name: filters.taskName.trim(),
        page_size: 200,
      }),
  );
}
