import { apiGet } from './client';
import type { components } from './schema';

export type DeploymentMode = components['schemas']['ServerInfoModeEnum'];
export type InstanceInfo = components['schemas']['ServerInfo'];

// `/readyz` is outside the REST API and its OpenAPI schema, so its shape is written here.

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
