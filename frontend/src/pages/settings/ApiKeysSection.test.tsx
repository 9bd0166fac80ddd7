import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const SECRET = 'tether_pat_AbC123_supersecretbody_chk';
const KEYS = '/api/v1/orgs/acme/api-keys/';

function key(overrides: Record<string, unknown> = {}) {
  return {
    id: 'k1',
    name: 'ci',
    prefix: 'tether_pat_AbC123',
    workspace: 'prod',
    scopes: [],
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
    status: 'active',
    created_at: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

function stubBackend() {
  const stored: ReturnType<typeof key>[] = [];
  const api = stubApi([
    ...signedInRoutes(),
    { path: KEYS, respond: () => jsonResponse(page(stored)) },
    {
      method: 'POST',
      path: KEYS,
      respond: (request) => {
        const created = key({ name: (request.body as { name: string }).name });
        stored.push(created);
        return jsonResponse({ ...created, secret: SECRET }, 201);
      },
    },
  ]);
  return api;
}

describe('API keys', () => {
  it('shows a new key once, with a copy button, and lists only its prefix', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/settings?tab=api-keys');

    await user.type(await screen.findByLabelText('Key name'), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create key' }));

    const panel = await screen.findByRole('region', { name: 'New API key' });
    expect(within(panel).getByText(SECRET)).toBeInTheDocument();
    expect(within(panel).getByText(/shown only once/)).toBeInTheDocument();
    expect(api.requestsTo(KEYS, 'POST')[0]?.body).toEqual({ name: 'ci', workspace: 'prod' });

    await user.click(within(panel).getByRole('button', { name: 'Copy' }));
    // userEvent.setup() installs a clipboard stub we can read back.
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    expect(within(panel).getByRole('button', { name: 'Copied' })).toBeInTheDocument();

    const table = await screen.findByRole('table', { name: 'API keys' });
    expect(within(table).getByText('tether_pat_AbC123…')).toBeInTheDocument();
    expect(within(table).queryByText(SECRET)).not.toBeInTheDocument();

    await user.click(within(panel).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();

    // Leaving and coming back cannot bring the secret back: nothing cached holds it.
    await router.navigate('/o/acme/w/prod/settings?tab=members');
    await router.navigate('/o/acme/w/prod/settings?tab=api-keys');
    expect(await screen.findByRole('table', { name: 'API keys' })).toBeInTheDocument();
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain('supersecretbody');
  });

  it('keeps the secret out of view when creation fails', async () => {
    stubApi([
      ...signedInRoutes(),
      { path: KEYS, respond: () => jsonResponse(page([])) },
      {
        method: 'POST',
        path: KEYS,
        respond: () =>
          jsonResponse({ error: { code: 'reauthentication_required', message: 'Confirm your password first.', details: {} } }, 403),
      },
    ]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/settings?tab=api-keys');
    await user.type(await screen.findByLabelText('Key name'), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Confirm your password first.');
    expect(screen.queryByRole('region', { name: 'New API key' })).not.toBeInTheDocument();
  });
});
