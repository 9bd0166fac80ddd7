import { allauthRequest, type AllauthResponse } from './client';

/** What the server wants next: a flow id from allauth's `data.flows`, or signed in. */
export type AuthOutcome =
  | { kind: 'signed-in'; email: string }
  | { kind: 'pending'; flow: string }
  | { kind: 'signed-out' }
  | { kind: 'error'; message: string; fieldErrors: Record<string, string> };

export interface SessionUser {
  email: string;
  display: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function userOf(answer: AllauthResponse): SessionUser | null {
  if (!isRecord(answer.data) || !isRecord(answer.data['user'])) return null;
  const user = answer.data['user'];
  const email = typeof user['email'] === 'string' ? user['email'] : '';
  const display = typeof user['display'] === 'string' ? user['display'] : email;
  return { email, display };
}

function pendingFlow(answer: AllauthResponse): string | null {
  if (!isRecord(answer.data) || !Array.isArray(answer.data['flows'])) return null;
  for (const flow of answer.data['flows'] as unknown[]) {
    if (isRecord(flow) && flow['is_pending'] === true && typeof flow['id'] === 'string') return flow['id'];
  }
  return null;
}

/** Turns any allauth answer into the few outcomes the pages care about. */
export function outcomeOf(answer: AllauthResponse): AuthOutcome {
  if (answer.status === 200) {
    const user = userOf(answer);
    if (user) return { kind: 'signed-in', email: user.email };
  }
  if (answer.errors?.length) {
    const fieldErrors: Record<string, string> = {};
    for (const error of answer.errors) {
      if (error.param && !fieldErrors[error.param]) fieldErrors[error.param] = error.message;
    }
    return { kind: 'error', message: answer.errors[0]?.message ?? 'The request was refused.', fieldErrors };
  }
  if (answer.status === 401) {
    const flow = pendingFlow(answer);
    return flow ? { kind: 'pending', flow } : { kind: 'signed-out' };
  }
  if (answer.status >= 400) {
    return { kind: 'error', message: 'The request was refused.', fieldErrors: {} };
  }
  return { kind: 'signed-out' };
}

export async function fetchSession(): Promise<SessionUser | null> {
  const answer = await allauthRequest('GET', '/auth/session');
  return answer.status === 200 ? userOf(answer) : null;
}

export async function login(email: string, password: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/login', { email, password }));
}

export async function authenticateSecondFactor(code: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/2fa/authenticate', { code }));
}

export async function logout(): Promise<void> {
  await allauthRequest('DELETE', '/auth/session');
}

export async function signup(email: string, password: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/signup', { email, password }));
}

/** The address a verification key is for, or null if the key is invalid or expired. */
export async function inspectVerificationKey(key: string): Promise<string | null> {
  const answer = await allauthRequest('GET', '/auth/email/verify', undefined, { 'X-Email-Verification-Key': key });
  if (answer.status !== 200 || !isRecord(answer.data)) return null;
  const email = answer.data['email'];
  return typeof email === 'string' ? email : '';
}

export async function verifyEmail(key: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/email/verify', { key }));
}

export async function requestPasswordReset(email: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/password/request', { email }));
}

export async function isPasswordResetKeyValid(key: string): Promise<boolean> {
  const answer = await allauthRequest('GET', '/auth/password/reset', undefined, { 'X-Password-Reset-Key': key });
  return answer.status === 200;
}

export async function resetPassword(key: string, password: string): Promise<AuthOutcome> {
  return outcomeOf(await allauthRequest('POST', '/auth/password/reset', { key, password }));
}
