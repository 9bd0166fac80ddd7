import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS, type ApiRoute } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };
const PAGE_TIMEOUT_MS = 60_000;

const SECRET = 'tether_sa_Q7x2Lk_workerkeybody9_c4f';
const ACCOUNTS = '/api/v1/orgs/acme/service-accounts/';
const MEMBERS = `${WS}/members/`;

function serviceAccount(overrides: Record<string, unknown> = {}) {
  return { id: 'sa1', name: 'agent-main', description: '', is_active: true, created_at: '2025-01-01T00:00:00Z', ...overrides };
}

function member(overrides: Record<string, unknown> = {}) {
  return {
    id: 'm1',
    kind: 'service_account',
    principal_id: 'sa1',
    display_name: 'agent-main',
    role: 'worker',
    created_at: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

/** A workspace with one process pool `main`, served like the real API under `base`. */
function poolRoutes(base: string): ApiRoute[] {
  const pool = {
    id: 'p1',
    name: 'main',
    type: 'process',
    description: '',
    base_job_template: {},
    concurrency_limit: null,
    paused: false,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  };
  return [
    { path: `${base}/work-pools/`, respond: () => jsonResponse(page([pool])) },
    { path: /\/work-pools\/[^/]+\/queues\/$/, respond: () => jsonResponse(page([])) },
    { path: `${base}/agents/`, respond: () => jsonResponse(page([])) },
  ];
}

function keyAnswer(name: string) {
  return {
    id: 'k1',
    name,
    prefix: 'tether_sa_Q7x2Lk',
    workspace: 'prod',
    scopes: null,
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
    status: 'active',
    created_at: '2025-01-01T00:00:00Z',
    secret: SECRET,
  };
}

async function openPanel(path = '/o/acme/w/prod/work-pools') {
  const user = userEvent.setup();
  renderRoute(path);
  await user.click(await screen.findByRole('button', { name: 'Add agent' }, FIRST_RENDER));
  return { user, panel: await screen.findByRole('region', { name: 'Add an agent to main' }) };
}

describe('add agent panel: worker key', () => {
  it('creates a worker service account and its key, shows the key once and puts it in every install command', async () => {
    const accounts: ReturnType<typeof serviceAccount>[] = [];
    const members: ReturnType<typeof member>[] = [];
    const api = stubApi([
      ...signedInRoutes(),
      ...poolRoutes(WS),
      { path: ACCOUNTS, respond: () => jsonResponse(page(accounts)) },
      {
        method: 'POST',
        path: ACCOUNTS,
        respond: (request) => {
          const created = serviceAccount({ name: (request.body as { name: string }).name });
          accounts.push(created);
          return jsonResponse(created, 201);
        },
      },
      { path: MEMBERS, respond: () => jsonResponse(page(members)) },
      {
        method: 'POST',
        path: MEMBERS,
        respond: () => {
          members.push(member());
          return jsonResponse(member(), 201);
        },
      },
      {
        method: 'POST',
        path: `${ACCOUNTS}sa1/api-keys/`,
        respond: (request) => jsonResponse(keyAnswer((request.body as { name: string }).name), 201),
      },
    ]);
    const { user, panel } = await openPanel();
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('TETHER_API_KEY=tether_sa_…');

    const form = within(panel).getByRole('form', { name: 'Create worker key' });
    expect(within(form).getByLabelText('Service account')).toHaveValue('agent-main');
    await user.click(within(form).getByRole('button', { name: 'Create worker key' }));

    const shown = await within(panel).findByRole('region', { name: 'New worker key' });
    expect(within(shown).getByTestId('worker-key-secret')).toHaveTextContent(SECRET);
    expect(shown).toHaveTextContent('only time the key is shown');
    expect(api.requestsTo(ACCOUNTS, 'POST')[0]?.body).toEqual({ name: 'agent-main', description: 'Agent for the work pool main' });
    expect(api.requestsTo(MEMBERS, 'POST')[0]?.body).toEqual({ service_account_id: 'sa1', role: 'worker' });
    expect(api.requestsTo(`${ACCOUNTS}sa1/api-keys/`, 'POST')[0]?.body).toEqual({ name: 'agent main', workspace: 'prod' });

    await user.click(within(shown).getByRole('button', { name: 'Copy key' }));
    expect(await navigator.clipboard.readText()).toBe(SECRET);

    // Every way of running the agent carries the key, not the placeholder.
    const tabs = within(panel).getByRole('tablist', { name: 'How to run the agent' });
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent(`export TETHER_API_KEY=${SECRET}`);
    for (const [tab, line] of [
      ['Container', `TETHER_API_KEY=${SECRET}`],
      ['Kubernetes', `--from-literal=TETHER_API_KEY=${SECRET}`],
      ['systemd', `TETHER_API_KEY=${SECRET}`],
    ] as const) {
      await user.click(within(tabs).getByRole('tab', { name: tab }));
      expect(within(panel).getByLabelText('Install commands')).toHaveTextContent(line);
      expect(within(panel).getByLabelText('Install commands')).not.toHaveTextContent('tether_sa_…');
    }

    // Once hidden, the secret is nowhere on the page and cannot be brought back.
    await user.click(within(shown).getByRole('button', { name: 'Hide key' }));
    expect(document.body.innerHTML).not.toContain('workerkeybody9');
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('TETHER_API_KEY=tether_sa_…');
    expect(within(panel).getByRole('button', { name: 'Create worker key' })).toBeInTheDocument();
  }, PAGE_TIMEOUT_MS);

  it('reuses a named worker account, and refuses one with another role in this workspace', async () => {
    const api = stubApi([
      ...signedInRoutes(),
      ...poolRoutes(WS),
      {
        path: ACCOUNTS,
        respond: () =>
          jsonResponse(page([serviceAccount({ id: 'sa1', name: 'fleet' }), serviceAccount({ id: 'sa2', name: 'ci' })])),
      },
      {
        path: MEMBERS,
        respond: () =>
          jsonResponse(page([member({ principal_id: 'sa1' }), member({ id: 'm2', principal_id: 'sa2', role: 'developer' })])),
      },
      { method: 'POST', path: `${ACCOUNTS}sa1/api-keys/`, respond: () => jsonResponse(keyAnswer('agent main'), 201) },
    ]);
    const { user, panel } = await openPanel();
    const field = within(panel).getByLabelText('Service account');

    await user.clear(field);
    await user.type(field, 'ci');
    await user.click(within(panel).getByRole('button', { name: 'Create worker key' }));
    expect(await within(panel).findByRole('alert')).toHaveTextContent('has the developer role in this workspace');
    expect(api.requestsTo(`${ACCOUNTS}sa2/api-keys/`, 'POST')).toHaveLength(0);

    await user.clear(field);
    await user.type(field, 'fleet');
    await user.click(within(panel).getByRole('button', { name: 'Create worker key' }));
    const shown = await within(panel).findByRole('region', { name: 'New worker key' });
    expect(shown).toHaveTextContent('fleet, reused');
    expect(api.requestsTo(ACCOUNTS, 'POST')).toHaveLength(0);
    expect(api.requestsTo(MEMBERS, 'POST')).toHaveLength(0);
  }, PAGE_TIMEOUT_MS);

  it('tells a member without the right to create service accounts, instead of offering the button', async () => {
    const api = stubApi([...signedInRoutes(), ...poolRoutes('/api/v1/orgs/beta/workspaces/main')]);
    const { panel } = await openPanel('/o/beta/w/main/work-pools');

    expect(await within(panel).findByText(/Only organisation owners and admins can create/)).toBeInTheDocument();
    expect(within(panel).queryByRole('button', { name: 'Create worker key' })).not.toBeInTheDocument();
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('TETHER_API_KEY=tether_sa_…');
    expect(api.requests.filter((request) => request.path.includes('service-accounts'))).toHaveLength(0);
  }, PAGE_TIMEOUT_MS);

  it('says why when the server refuses the key', async () => {
    stubApi([
      ...signedInRoutes(),
      ...poolRoutes(WS),
      { path: ACCOUNTS, respond: () => jsonResponse(page([serviceAccount()])) },
      { path: MEMBERS, respond: () => jsonResponse(page([member()])) },
      {
        method: 'POST',
        path: `${ACCOUNTS}sa1/api-keys/`,
        respond: () =>
          jsonResponse(
            { error: { code: 'permission_denied', message: 'Creating a key needs a recent sign-in.', details: {} } },
            403,
          ),
      },
    ]);
    const { user, panel } = await openPanel();
    await user.click(within(panel).getByRole('button', { name: 'Create worker key' }));
    await waitFor(() => expect(within(panel).getByRole('alert')).toHaveTextContent('Creating a key needs a recent sign-in.'));
    expect(within(panel).queryByRole('region', { name: 'New worker key' })).not.toBeInTheDocument();
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('TETHER_API_KEY=tether_sa_…');
  }, PAGE_TIMEOUT_MS);
});
