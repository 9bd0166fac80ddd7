import { apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Deployment, Page, Schedule, ScheduleRequest } from './types';

export function fetchDeployments(ref: WorkspaceRef, pageUrl?: string): Promise<Page<Deployment>> {
  return apiGet<Page<Deployment>>(pageUrl ?? wsPath(ref, 'deployments/', { sort: 'name' }));
}

export function fetchDeployment(ref: WorkspaceRef, id: string): Promise<Deployment> {
  return apiGet<Deployment>(wsPath(ref, `deployments/${id}/`));
}

export function pauseDeployment(ref: WorkspaceRef, id: string): Promise<Deployment> {
  return apiPost<Deployment>(wsPath(ref, `deployments/${id}/pause/`));
}

export function resumeDeployment(ref: WorkspaceRef, id: string): Promise<Deployment> {
  return apiPost<Deployment>(wsPath(ref, `deployments/${id}/resume/`));
}

export function fetchSchedules(ref: WorkspaceRef, deploymentId: string): Promise<Page<Schedule>> {
  return apiGet<Page<Schedule>>(wsPath(ref, `deployments/${deploymentId}/schedules/`));
}

export function createSchedule(ref: WorkspaceRef, deploymentId: string, body: ScheduleRequest): Promise<Schedule> {
  return apiPost<Schedule>(wsPath(ref, `deployments/${deploymentId}/schedules/`), body);
}

export function setScheduleActive(
  ref: WorkspaceRef,
  deploymentId: string,
  schedule: Schedule,
  active: boolean,
): Promise<Schedule> {
  // `timezone` is required even on PATCH by the schema.
  return apiPatch<Schedule>(wsPath(ref, `deployments/${deploymentId}/schedules/${schedule.id}/`), {
    active,
    timezone: schedule.timezone,
  });
}

/** The next start times of an unsaved schedule, as ISO strings. */
export function previewSchedule(ref: WorkspaceRef, deploymentId: string, body: ScheduleRequest): Promise<string[]> {
  return apiPost<string[]>(wsPath(ref, `deployments/${deploymentId}/schedules/preview/`, { count: 5 }), body);
}
