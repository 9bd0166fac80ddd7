import { apiDelete, apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { Page, Sla, SlaWriteRequest } from './types';

export function fetchSlas(ref: WorkspaceRef, deploymentId: string): Promise<Page<Sla>> {
  return apiGet<Page<Sla>>(wsPath(ref, 'slas/', { deployment_id: deploymentId, page_size: 200 }));
}

export function createSla(ref: WorkspaceRef, body: SlaWriteRequest): Promise<Sla> {
  return apiPost<Sla>(wsPath(ref, 'slas/'), body);
}

export function updateSla(ref: WorkspaceRef, id: string, body: Partial<SlaWriteRequest>): Promise<Sla> {
  return apiPatch<Sla>(wsPath(ref, `slas/${id}/`), body);
}

export function deleteSla(ref: WorkspaceRef, id: string): Promise<void> {
  return apiDelete(wsPath(ref, `slas/${id}/`));
}
