import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { signedInRoutes, stubApi, type ApiRoute } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';
import { safeNext } from './LoginPage';

const SESSION = '/_allauth/browser/v1/auth/session';
const signedOut = () => jsonResponse({ status: 401, data: { flows: [{ id: 'login' }] } }, 401);
const signedIn = () => jsonResponse({ status: 200, data: { user: { email: 'alice@example.com', display: 'Alice' } } });

/** The session answers "signed out" until `signIn()` is called, like the real cookie would. */
function stubAuthBackend(extra: ApiRoute[]) {
  let authenticated = false;
  const api = stubApi([
    { path: SESSION, respond: () => (authenticated ? signedIn() : signedOut()) },
    ...extra,
    ...signedInRoutes().filter((route) => route.path !== SESSION),
  ]);
  return { api, signIn: () => (authenticated = true) };
}

describe('login', () => {
  it('asks for the TOTP code when the server wants a second factor, then goes where the user was headed', async () => {
    let signIn = () => {};
    const routes: ApiRoute[] = [
      {
        method: 'POST',
        path: '/_allauth/browser/v1/auth/login',
        respond: () =>
          jsonResponse(
            { status: 401, data: { flows: [{ id: 'login' }, { id: 'mfa_authenticate', is_pending: true }] } },
            401,
          ),
      },
      {
        method: 'POST',
        path: '/_allauth/browser/v1/auth/2fa/authenticate',
        respond: (request) => {
          if ((request.body as { code: string }).code !== '123456') {
            return jsonResponse({ status: 400, errors: [{ message: 'Incorrect code.', code: 'incorrect_code', param: 'code' }] }, 400);
          }
          signIn();
          return signedIn();
        },
      },
    ];
    const api = stubAuthBackend(routes);
    signIn = api.signIn;
    const user = userEvent.setup();
    document.cookie = 'csrftoken=tok';
    // Start where a signed-out visitor would: on a workspace page, sent to the login form.
    const { router } = renderRoute('/o/acme/w/prod/settings');
    await screen.findByRole('heading', { level: 1, name: 'Sign in' });
    expect(router.state.location.search).toBe(`?next=${encodeURIComponent('/o/acme/w/prod/settings')}`);

    await user.type(await screen.findByLabelText('Email'), 'alice@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const code = await screen.findByLabelText('Authentication code');
    const [loginRequest] = api.api.requestsTo('/_allauth/browser/v1/auth/login', 'POST');
    expect(loginRequest?.body).toEqual({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(loginRequest?.headers.get('X-CSRFToken')).toBe('tok');
    expect(router.state.location.pathname).toBe('/account/login');

    await user.type(code, '000000');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Incorrect code.');
    expect(router.state.location.pathname).toBe('/account/login');

    await user.clear(code);
    await user.type(code, '123456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/o/acme/w/prod/settings');
  });

  it('shows the server message for wrong credentials and stays on the form', async () => {
    const { api } = stubAuthBackend([
      {
        method: 'POST',
        path: '/_allauth/browser/v1/auth/login',
        respond: () =>
          jsonResponse(
            { status: 400, errors: [{ message: 'The email address and/or password you specified are not correct.', code: 'email_password_mismatch' }] },
            400,
          ),
      },
    ]);
    const user = userEvent.setup();
    renderRoute('/account/login');

    await user.type(await screen.findByLabelText('Email'), 'alice@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('are not correct');
    expect(screen.queryByLabelText('Authentication code')).not.toBeInTheDocument();
    expect(api.requestsTo('/_allauth/browser/v1/auth/2fa/authenticate', 'POST')).toHaveLength(0);
  });

  it('asks an unverified user to check their email', async () => {
    stubAuthBackend([
      {
        method: 'POST',
        path: '/_allauth/browser/v1/auth/login',
        respond: () => jsonResponse({ status: 401, data: { flows: [{ id: 'verify_email', is_pending: true }] } }, 401),
      },
    ]);
    const user = userEvent.setup();
    renderRoute('/account/login');
    await user.type(await screen.findByLabelText('Email'), 'new@example.com');
    await user.type(screen.getByLabelText('Password'), 'whatever-password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('status')).toHaveTextContent('verify your email');
  });

  it('never redirects off-site after sign-in', () => {
    expect(safeNext('/o/acme/w/prod')).toBe('/o/acme/w/prod');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});
