import { vi } from 'vitest';
import { jsonResponse } from './fetch';

export interface SentRequest {
  method: string;
  /** Path and query, as the app asked for it. */
  url: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Headers;
}

export interface ApiRoute {
  method?: string;
  /** A path without query (matches any query) or a RegExp tested against path + query. */
  path: string | RegExp;
  respond: (request: SentRequest) => Response | Promise<Response>;
}

function toRequest(input: RequestInfo | URL, init?: RequestInit): SentRequest {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const url = new URL(raw, 'http://localhost');
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
  return {
    method: init?.method ?? 'GET',
    url: url.pathname + url.search,
    path: url.pathname,
    query: url.searchParams,
    body,
    headers: new Headers(init?.headers),
  };
}

/**
 * Replaces global fetch with a small router. The first matching route answers; anything
 * else gets a 404 in the server's error format, and is recorded so a test can check it.
 */
export function stubApi(routes: ApiRoute[]) {
  const requests: SentRequest[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = toRequest(input, init);
    requests.push(request);
    const route = routes.find(
      (candidate) =>
        (candidate.method ?? 'GET') === request.method &&
        (typeof candidate.path === 'string' ? candidate.path === request.path : candidate.path.test(request.url)),
    );
    if (!route) {
      return jsonResponse({ error: { code: 'not_found', message: `No stub for ${request.method} ${request.url}` } }, 404);
    }
    return route.respond(request);
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    fetchMock,
    requests,
    /** Requests to `path` (without query), optionally of one method. */
    requestsTo: (path: string, method = 'GET') => requests.filter((r) => r.path === path && r.method === method),
  };
}

export const page = <T>(results: T[], next: string | null = null) => ({ next, previous: null, results });

export const WS = '/api/v1/orgs/acme/workspaces/prod';

/** A signed-in user in two organisations: acme (prod, staging) and beta (main). */
export function signedInRoutes(): ApiRoute[] {
  return [
    {
      path: '/_allauth/browser/v1/auth/session',
      respond: () => jsonResponse({ status: 200, data: { user: { email: 'alice@example.com', display: 'Alice' } } }),
    },
    {
      path: '/api/v1/me/',
      respond: () =>
        jsonResponse({
          id: 'u1',
          email: 'alice@example.com',
          name: 'Alice',
          date_joined: '2025-01-01T00:00:00Z',
          organizations: [
            { slug: 'acme', name: 'Acme', role: 'owner' },
            { slug: 'beta', name: 'Beta', role: 'member' },
          ],
        }),
    },
    {
      path: '/api/v1/orgs/acme/workspaces/',
      respond: () =>
        jsonResponse([
          { id: 'w1', slug: 'prod', name: 'Production', created_at: '2025-01-01T00:00:00Z' },
          { id: 'w2', slug: 'staging', name: 'Staging', created_at: '2025-01-01T00:00:00Z' },
        ]),
    },
    {
      path: '/api/v1/orgs/beta/workspaces/',
      respond: () => jsonResponse([{ id: 'w3', slug: 'main', name: 'Main', created_at: '2025-01-01T00:00:00Z' }]),
    },
  ];
}

export function flowRun(overrides: Record<string, unknown> = {}) {
  return {
    id: 'r1',
    name: 'brave-otter',
    flow_id: 'f1',
    flow_name: 'etl',
    deployment_id: 'd1',
    deployment_name: 'nightly',
    state: {},
    state_type: 'COMPLETED',
    state_name: 'Completed',
    parameters: { rows: 3 },
    tags: ['daily'],
    idempotency_key: null,
    parent_task_run_id: null,
    work_pool_id: null,
    work_queue_id: null,
    job_variables: {},
    expected_start_time: '2025-01-01T12:00:00Z',
    next_scheduled_start_time: null,
    start_time: '2025-01-01T12:00:01Z',
    end_time: '2025-01-01T12:00:05Z',
    total_run_time: 4,
    run_count: 1,
    max_retries: 0,
    epoch: 1,
    created_at: '2025-01-01T11:00:00Z',
    updated_at: '2025-01-01T12:00:05Z',
    ...overrides,
  };
}
