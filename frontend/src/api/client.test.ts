import { describe, expect, it, vi } from 'vitest';
import { jsonResponse } from '../test/fetch';
import { allauthRequest, ApiError, apiDelete, apiGet, apiPost, withQuery } from './client';

function mockFetch(response: Response | Error) {
  const fetchMock = vi.fn(async (..._args: Parameters<typeof fetch>) => {
    if (response instanceof Error) throw response;
    return response;
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

async function captureError(promise: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

function sentHeaders(fetchMock: ReturnType<typeof mockFetch>): Headers {
  const init = fetchMock.mock.calls[0]?.[1];
  return new Headers(init?.headers);
}

describe('api client', () => {
  it('returns the parsed JSON body of a successful response', async () => {
    mockFetch(jsonResponse({ name: 'Tether' }));
    await expect(apiGet<{ name: string }>('/api/v1/info/')).resolves.toEqual({ name: 'Tether' });
  });

  it("parses the server's error format into an ApiError", async () => {
    mockFetch(
      jsonResponse(
        {
          error: {
            code: 'validation_error',
            message: 'Name is required.',
            details: { name: ['This field is required.'] },
          },
        },
        400,
      ),
    );

    const error = await captureError(apiPost('/api/v1/flows/', {}));

    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_error');
    expect(error.message).toBe('Name is required.');
    expect(error.details).toEqual({ name: ['This field is required.'] });
  });

  it('defaults details to an empty object when the server omits them', async () => {
    mockFetch(jsonResponse({ error: { code: 'not_found', message: 'Not found.' } }, 404));
    const error = await captureError(apiGet('/api/v1/flows/x/'));
    expect(error).toMatchObject({ status: 404, code: 'not_found', details: {} });
  });

  it('keeps the status when the error body is not in the server format', async () => {
    mockFetch(new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await captureError(apiGet('/api/v1/info/'));
    expect(error).toMatchObject({ status: 502, code: 'http_error' });
    expect(error.message).toContain('Bad Gateway');
  });

  it('reports an unreachable server as a network error', async () => {
    mockFetch(new TypeError('Failed to fetch'));
    const error = await captureError(apiGet('/api/v1/info/'));
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
  });

  it('returns the body of an accepted non-2xx status instead of throwing', async () => {
    mockFetch(jsonResponse({ status: 'unavailable' }, 503));
    await expect(apiGet('/readyz', { acceptStatuses: [503] })).resolves.toEqual({ status: 'unavailable' });
  });

  it('sends the CSRF token, JSON body and same-origin credentials on unsafe methods', async () => {
    document.cookie = 'csrftoken=tok%3Den';
    const fetchMock = mockFetch(jsonResponse({ id: 1 }, 201));

    await apiPost('/api/v1/flows/', { name: 'etl' });

    const init = fetchMock.mock.calls[0]?.[1];
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin', body: '{"name":"etl"}' });
    expect(sentHeaders(fetchMock).get('X-CSRFToken')).toBe('tok=en');
    expect(sentHeaders(fetchMock).get('Content-Type')).toBe('application/json');
  });

  it('does not send the CSRF token on GET', async () => {
    document.cookie = 'csrftoken=secret';
    const fetchMock = mockFetch(jsonResponse({}));
    await apiGet('/api/v1/info/');
    expect(sentHeaders(fetchMock).has('X-CSRFToken')).toBe(false);
  });

  it('accepts an empty 204 response', async () => {
    mockFetch(new Response(null, { status: 204 }));
    await expect(apiDelete('/api/v1/flows/1/')).resolves.toBeUndefined();
  });
});

describe('allauth requests', () => {
  it('returns allauth answers such as 401 "pending flow" as data, with the CSRF token sent', async () => {
    document.cookie = 'csrftoken=abc';
    const body = { status: 401, data: { flows: [{ id: 'mfa_authenticate', is_pending: true }] } };
    const fetchMock = mockFetch(jsonResponse(body, 401));

    await expect(allauthRequest('POST', '/auth/login', { email: 'a@b.c', password: 'x' })).resolves.toEqual(body);

    expect(fetchMock.mock.calls[0]?.[0]).toBe('/_allauth/browser/v1/auth/login');
    expect(sentHeaders(fetchMock).get('X-CSRFToken')).toBe('abc');
  });

  it('sends extra headers such as the verification key', async () => {
    const fetchMock = mockFetch(jsonResponse({ status: 200, data: { email: 'a@b.c' } }));
    await allauthRequest('GET', '/auth/email/verify', undefined, { 'X-Email-Verification-Key': 'k1' });
    expect(sentHeaders(fetchMock).get('X-Email-Verification-Key')).toBe('k1');
  });

  it('still throws on server errors and rate limits', async () => {
    mockFetch(new Response('busy', { status: 429, statusText: 'Too Many Requests' }));
    const error = await captureError(allauthRequest('POST', '/auth/login', {}));
    expect(error.status).toBe(429);
  });
});

describe('withQuery', () => {
  it('leaves out empty values and repeats array keys', () => {
    expect(withQuery('/x/', { a: 'b c', empty: '', none: undefined, tag: ['t1', 't2'], n: 0 })).toBe(
      '/x/?a=b+c&tag=t1&tag=t2&n=0',
    );
    expect(withQuery('/x/', { empty: '' })).toBe('/x/');
  });
});
