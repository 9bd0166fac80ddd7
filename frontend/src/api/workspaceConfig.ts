import { apiDelete, apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { ConcurrencyLimit, ConcurrencyLimitRequest, Page, Variable, VariableRequest } from './types';

export function fetchVariables(ref: WorkspaceRef): Promise<Page<Variable>> {
  return apiGet<Page<Variable>>(wsPath(ref, 'variables/', { page_size: 200 }));
}

export function createVariable(ref: WorkspaceRef, body: VariableRequest): Promise<Variable> {
  return apiPost<Variable>(wsPath(ref, 'variables/'), body);
}

export function updateVariable(ref: WorkspaceRef, id: string, value: unknown): Promise<Variable> {
  return apiPatch<Variable>(wsPath(ref, `variables/${id}/`), { value });
}

export function deleteVariable(ref: WorkspaceRef, id: string): Promise<void> {
  return apiDelete(wsPath(ref, `variables/${id}/`));
}

export function fetchConcurrencyLimits(ref: WorkspaceRef): Promise<Page<ConcurrencyLimit>> {
  return apiGet<Page<ConcurrencyLimit>>(wsPath(ref, 'concurrency-limits/', { page_size: 200 }));
}

export function createConcurrencyLimit(ref: WorkspaceRef, body: ConcurrencyLimitRequest): Promise<ConcurrencyLimit> {
  return apiPost<ConcurrencyLimit>(wsPath(ref, 'concurrency-limits/'), body);
}

export function updateConcurrencyLimit(
  ref: WorkspaceRef,
  id: string,
  body: Partial<ConcurrencyLimitRequest>,
): Promise<ConcurrencyLimit> {
  return apiPatch<ConcurrencyLimit>(wsPath(ref, `concurrency-limits/${id}/`), body);
}

export function deleteConcurrencyLimit(ref: WorkspaceRef, id: string): Promise<void> {
  return apiDelete(wsPath(ref, `concurrency-limits/${id}/`));
}
