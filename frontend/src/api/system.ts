import { apiGet } from './client';

// Hand-written until the backend's OpenAPI schema (/api/schema/) settles; then these
// types should be generated from it.

export type DeploymentMode = 'embedded' | 'production';

export interface InstanceInfo {
  name: string;
  version: string;
  mode: DeploymentMode;
  api_schema_url: string;
  api_docs_url: string;
}

/** A check value is "ok", "not configured", or "error: <reason>". */
export type ReadinessCheckValue = string;

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: Record<string, ReadinessCheckValue>;
}

export function fetchInstanceInfo(): Promise<InstanceInfo> {
  return apiGet<InstanceInfo>('/api/v1/info/');
}

/** `/readyz` answers 503 when a check fails; its body still says which one. */
export function fetchReadiness(): Promise<Readiness> {
  return apiGet<Readiness>('/readyz', { acceptStatuses: [503] });
}
