/**
 * The one module that talks HTTP to the Tether backend. Everything else calls
 * `apiGet`/`apiPost`/... and receives typed data or an `ApiError`.
 */

export type ApiErrorDetails = Record<string, unknown>;

/** Every failed request surfaces as an ApiError, whatever went wrong. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorDetails;

  constructor(status: number, code: string, message: string, details: ApiErrorDetails = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface RequestOptions {
  /**
   * Non-2xx statuses whose body is data rather than an error, e.g. 503 from
   * `/readyz`, which still describes which check failed.
   */
  acceptStatuses?: readonly number[];
  signal?: AbortSignal;
  /** Extra request headers, e.g. allauth's `X-Email-Verification-Key`. */
  headers?: Record<string, string>;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const SAFE_METHODS: ReadonlySet<Method> = new Set(['GET']);
const CSRF_COOKIE = 'csrftoken';

export function apiGet<T>(path: string, options?: RequestOptions): Promise<T> {
  return apiRequest<T>('GET', path, undefined, options);
}

export function apiPost<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return apiRequest<T>('POST', path, body, options);
}

export function apiPut<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return apiRequest<T>('PUT', path, body, options);
}

export function apiPatch<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return apiRequest<T>('PATCH', path, body, options);
}

export function apiDelete<T = void>(path: string, options?: RequestOptions): Promise<T> {
  return apiRequest<T>('DELETE', path, undefined, options);
}

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

/** `?a=1&tag=x&tag=y` from an object; empty values are left out, arrays repeat the key. */
export function withQuery(path: string, query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) params.append(key, item);
    } else {
      params.append(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** django-allauth's headless answers: `{status, data, meta, errors}`, not Tether's error shape. */
export interface AllauthResponse {
  status: number;
  data?: unknown;
  meta?: unknown;
  errors?: { message: string; code?: string; param?: string }[];
}

const ALLAUTH_BASE = '/_allauth/browser/v1';
/** allauth uses these statuses for "not signed in yet" and form errors: they are answers, not failures. */
const ALLAUTH_ANSWERS = [400, 401, 403, 404, 409, 410];

export async function allauthRequest(
  method: Method,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<AllauthResponse> {
  const payload = await apiRequest<AllauthResponse | undefined>(method, `${ALLAUTH_BASE}${path}`, body, {
    acceptStatuses: ALLAUTH_ANSWERS,
    ...(headers && { headers }),
  });
  return payload ?? { status: 204 };
}

async function apiRequest<T>(
  method: Method,
  path: string,
  body: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (!SAFE_METHODS.has(method)) {
    const token = readCookie(CSRF_COOKIE);
    if (token) {
      headers['X-CSRFToken'] = token;
    }
  }

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      throw error;
    }
    throw new ApiError(0, 'network_error', 'Could not reach the Tether server.');
  }

  const payload = await readJson(response);
  if (response.ok || options.acceptStatuses?.includes(response.status)) {
    return payload as T;
  }
  throw errorFromResponse(response, payload);
}

/** Parses the server's `{"error": {"code", "message", "details"}}` format. */
function errorFromResponse(response: Response, payload: unknown): ApiError {
  const error = isRecord(payload) ? payload['error'] : undefined;
  if (isRecord(error) && typeof error['code'] === 'string' && typeof error['message'] === 'string') {
    const details = isRecord(error['details']) ? error['details'] : {};
    return new ApiError(response.status, error['code'], error['message'], details);
  }
  // Proxies and crashed workers answer in their own format; keep the status at least.
  const reason = response.statusText || 'Request failed';
  return new ApiError(response.status, 'http_error', `${reason} (HTTP ${response.status}).`);
}

async function readJson(response: Response): Promise<unknown> {
  if (response.status === 204) {
    return undefined;
  }
  const text = await response.text();
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (response.ok) {
      throw new ApiError(response.status, 'invalid_response', 'The server sent a response that is not JSON.');
    }
    return undefined;
  }
}

function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      return decodeURIComponent(rest.join('='));
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
