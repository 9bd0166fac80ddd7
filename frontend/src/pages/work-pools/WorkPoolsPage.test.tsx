import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };

// Lazy page loads and user-event typing are slow on a loaded 2-core CI machine.
const PAGE_TIMEOUT_MS = 30_000;

function pool(overrides: Record<string, unknown> = {}) {
  return {
    id: 'p1',
    name: 'main',
    type: 'process',
    description: '',
    base_job_template: {},
    concurrency_limit: null,
    paused: false,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

describe('work pools page', () => {
  it('creates an ECS pool, then shows how to add its agent, one tab per way to run it', async () => {
    const pools = [pool()];
    const api = stubApi([
      ...signedInRoutes(),
      { path: `${WS}/work-pools/`, respond: () => jsonResponse(page(pools)) },
      { path: /\/work-pools\/[^/]+\/queues\/$/, respond: () => jsonResponse(page([])) },
      { path: `${WS}/agents/`, respond: () => jsonResponse(page([])) },
      {
        method: 'POST',
        path: `${WS}/work-pools/`,
        respond: (request) => {
          const created = pool({ id: 'p2', ...(request.body as object) });
          pools.push(created);
          return jsonResponse(created, 201);
        },
      },
    ]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/work-pools');

    await user.click(await screen.findByRole('button', { name: 'New work pool' }, FIRST_RENDER));
    const form = screen.getByRole('form', { name: 'Create work pool' });
    await user.type(within(form).getByLabelText('Pool name'), 'fargate');
    await user.selectOptions(within(form).getByLabelText('Type'), 'AWS ECS');
    expect(within(form).getByRole('link', { name: 'docs/pools-ecs.md' })).toHaveAttribute(
      'href',
      'https://github.com/tether/tether/blob/main/docs/pools-ecs.md',
    );
    await user.selectOptions(within(form).getByLabelText('Type'), 'Azure Container Instances');
    expect(within(form).getByRole('link', { name: 'docs/pools-aci.md' })).toBeInTheDocument();
    await user.selectOptions(within(form).getByLabelText('Type'), 'AWS ECS');
    await user.click(within(form).getByRole('button', { name: 'Create pool' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/work-pools/`, 'POST')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/work-pools/`, 'POST')[0]?.body).toEqual({ name: 'fargate', type: 'ecs', concurrency_limit: null });
    expect(await screen.findByRole('heading', { name: 'fargate (AWS ECS)' })).toBeInTheDocument();

    // The new pool's agent panel opens on the pip tab.
    const panel = screen.getByRole('region', { name: 'Add an agent to fargate' });
    const tabs = within(panel).getByRole('tablist', { name: 'How to run the agent' });
    expect(within(tabs).getByRole('tab', { name: 'pip' })).toHaveAttribute('aria-selected', 'true');
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('tether agent start --pool fargate');

    await user.click(within(tabs).getByRole('tab', { name: 'Kubernetes' }));
    expect(within(panel).getByRole('tabpanel')).toHaveTextContent('kubectl -n tether apply -f tether-agent-fargate.yaml');
    expect(within(panel).getByLabelText('tether-agent-fargate.yaml')).toHaveTextContent('kind: Deployment');

    // Arrow keys move along the tabs.
    await user.keyboard('{ArrowRight}');
    expect(within(tabs).getByRole('tab', { name: 'systemd' })).toHaveFocus();
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('systemctl enable --now tether-agent');
    await user.keyboard('{ArrowRight}');
    expect(within(tabs).getByRole('tab', { name: 'pip' })).toHaveAttribute('aria-selected', 'true');
    await user.click(within(tabs).getByRole('tab', { name: 'Container' }));
    expect(within(panel).getByLabelText('Install commands')).toHaveTextContent('docker run -d --name tether-agent');
  }, PAGE_TIMEOUT_MS);
});
