import { apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Agent, Page, WorkPool, WorkPoolCreateRequest, WorkPoolType, WorkQueue } from './types';

export function fetchWorkPools(ref: WorkspaceRef): Promise<Page<WorkPool>> {
  return apiGet<Page<WorkPool>>(wsPath(ref, 'work-pools/', { page_size: 200 }));
}

export function fetchQueues(ref: WorkspaceRef, poolId: string): Promise<Page<WorkQueue>> {
  return apiGet<Page<WorkQueue>>(wsPath(ref, `work-pools/${poolId}/queues/`, { page_size: 200 }));
}

export function fetchAgents(ref: WorkspaceRef): Promise<Page<Agent>> {
  return apiGet<Page<Agent>>(wsPath(ref, 'agents/', { page_size: 200 }));
}

export function setPoolPaused(ref: WorkspaceRef, poolId: string, paused: boolean): Promise<WorkPool> {
  return apiPost<WorkPool>(wsPath(ref, `work-pools/${poolId}/${paused ? 'pause' : 'resume'}/`));
}

export function setQueuePaused(ref: WorkspaceRef, queue: WorkQueue, paused: boolean): Promise<WorkQueue> {
  return apiPost<WorkQueue>(wsPath(ref, `work-pools/${queue.pool_id}/queues/${queue.id}/${paused ? 'pause' : 'resume'}/`));
}

export function setQueuePriority(ref: WorkspaceRef, queue: WorkQueue, priority: number): Promise<WorkQueue> {
  return apiPatch<WorkQueue>(wsPath(ref, `work-pools/${queue.pool_id}/queues/${queue.id}/`), { priority });
}

/** `type` widened to the serverless pool types the regenerated schema will list. */
export type NewWorkPool = Omit<WorkPoolCreateRequest, 'type'> & { type: WorkPoolType };

export function createWorkPool(ref: WorkspaceRef, body: NewWorkPool): Promise<WorkPool> {
  return apiPost<WorkPool>(wsPath(ref, 'work-pools/'), body);
}
