import type { NewWorkPool } from '../../api/pools';
import type { WorkPoolType } from '../../api/types';

/** Where the docs live; the files are the repository's docs/ folder. */
export const DOCS_BASE = 'https://github.com/tether/tether/blob/main/docs/';

export interface PoolTypeInfo {
  type: WorkPoolType;
  label: string;
  hint: string;
  doc: string;
}

/** Every pool type the server accepts (controlplane/workpools/models.py WorkPoolType), with a hint. */
export const POOL_TYPES: readonly PoolTypeInfo[] = [
  { type: 'process', label: 'Process', hint: 'Runs flows as processes on the agent’s own machine.', doc: 'agent-install.md' },
  { type: 'docker', label: 'Docker', hint: 'Runs each flow run in a container on the agent’s Docker host.', doc: 'agent-install.md' },
  {
    type: 'kubernetes',
    label: 'Kubernetes',
    hint: 'Runs each flow run as a Kubernetes Job in the agent’s cluster.',
    doc: 'agent-install.md',
  },
  {
    type: 'ecs',
    label: 'AWS ECS',
    hint: 'Runs each flow run as an ECS task (Fargate or EC2); the agent needs AWS credentials.',
    doc: 'pools-ecs.md',
  },
  {
    type: 'cloud-run',
    label: 'Google Cloud Run',
    hint: 'Runs each flow run as a Cloud Run job; the agent needs a Google service account.',
    doc: 'pools-cloud-run.md',
  },
  {
    type: 'aci',
    label: 'Azure Container Instances',
    hint: 'Runs each flow run as an Azure container group; the agent needs Azure credentials.',
    doc: 'pools-aci.md',
  },
];

export function poolTypeInfo(type: string): PoolTypeInfo | undefined {
  return POOL_TYPES.find((info) => info.type === type);
}

export interface PoolFormValues {
  name: string;
  type: WorkPoolType;
  description: string;
  /** Empty: no limit. */
  concurrencyLimit: string;
}

export const EMPTY_POOL_FORM: PoolFormValues = { name: '', type: 'process', description: '', concurrencyLimit: '' };

export type PoolFormErrors = Partial<Record<keyof PoolFormValues, string>>;

const FORBIDDEN_NAME = /[/%&<>\u0000-\u001f\u007f]/;

/** The create request, or the fields to fix (the name rule is the server's name_validator). */
export function buildPoolRequest(values: PoolFormValues): { ok: true; request: NewWorkPool } | { ok: false; errors: PoolFormErrors } {
  const errors: PoolFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = 'Give the pool a name.';
  else if (FORBIDDEN_NAME.test(name)) errors.name = "Names may not contain '/', '%', '&', '<', '>' or control characters.";
  let limit: number | null = null;
  if (values.concurrencyLimit.trim()) {
    limit = Number(values.concurrencyLimit);
    if (!Number.isInteger(limit) || limit < 0) errors.concurrencyLimit = 'A whole number, 0 or more; empty for no limit.';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      name,
      type: values.type,
      ...(values.description.trim() && { description: values.description.trim() }),
      concurrency_limit: limit,
    },
  };
}
