import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };

const DEPLOYMENT = {
  id: 'd1',
  name: 'nightly',
  flow_id: 'f1',
  flow_name: 'etl',
  description: '',
  entrypoint: 'flows.py:etl',
  parameters: {},
  parameter_schema: { type: 'object', properties: {} },
  work_pool_name: 'main',
  work_queue_name: 'default',
  tags: [],
  paused: false,
  concurrency_limit: null,
};

const SMTP_BLOCK = {
  id: 'b1',
  name: 'mailer',
  block_type: { id: 't1', slug: 'smtp', name: 'SMTP server', icon: '' },
  data: {},
  undecryptable_fields: [],
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

const STORED = {
  id: 's1',
  deployment_id: 'd1',
  name: 'starts on time',
  kind: 'start_within',
  seconds: 900,
  time_of_day: null,
  timezone: 'UTC',
  actions: [{ type: 'run-deployment', deployment_id: 'd1', parameters: {} }],
  enabled: true,
  automation_id: 'a1',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

// Many keystrokes through user-event: slow on a busy CI machine.
const TYPING_TIMEOUT_MS = 30_000;

function stubBackend(slas: unknown[]) {
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/deployments/d1/`, respond: () => jsonResponse(DEPLOYMENT) },
    { path: `${WS}/deployments/d1/schedules/`, respond: () => jsonResponse(page([])) },
    { path: `${WS}/deployments/`, respond: () => jsonResponse(page([DEPLOYMENT])) },
    { path: `${WS}/blocks/`, respond: () => jsonResponse(page([SMTP_BLOCK])) },
    { path: `${WS}/slas/`, respond: () => jsonResponse(page(slas)) },
    { method: 'POST', path: `${WS}/slas/`, respond: (request) => jsonResponse({ ...STORED, ...(request.body as object), id: 's2' }, 201) },
    { method: 'PATCH', path: `${WS}/slas/s1/`, respond: (request) => jsonResponse({ ...STORED, ...(request.body as object) }) },
    { method: 'DELETE', path: `${WS}/slas/s1/`, respond: () => new Response(null, { status: 204 }) },
  ]);
}

describe('deployment SLAs', () => {
  it('creates a freshness SLA that emails through a picked block', async () => {
    const api = stubBackend([]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/deployments/d1');

    expect(await screen.findByText(/No SLAs/, {}, FIRST_RENDER)).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/slas/`)[0]?.query.get('deployment_id')).toBe('d1');
    await user.click(screen.getByRole('button', { name: 'New SLA' }));
    const form = screen.getByRole('form', { name: 'Create SLA' });
    await user.type(within(form).getByLabelText('SLA name'), 'fresh by 07:15');
    await user.selectOptions(within(form).getByLabelText('Kind'), 'freshness');
    fireEvent.change(within(form).getByLabelText('Completed by (HH:MM)'), { target: { value: '07:15' } });
    const zone = within(form).getByLabelText('Time zone');
    await user.clear(zone);
    await user.paste('Europe/Paris');
    const picker = within(form).getByLabelText('Notification block');
    await waitFor(() => expect(within(picker).getByRole('option', { name: /mailer/ })).toBeInTheDocument());
    await user.selectOptions(picker, 'b1');
    await user.click(within(form).getByLabelText('To'));
    await user.paste('ops@acme.test');
    await user.click(within(form).getByRole('button', { name: 'Create SLA' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/slas/`, 'POST')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/slas/`, 'POST')[0]?.body).toEqual({
      deployment_id: 'd1',
      name: 'fresh by 07:15',
      kind: 'freshness',
      seconds: null,
      time_of_day: '07:15',
      timezone: 'Europe/Paris',
      actions: [
        {
          type: 'send-notification',
          block_id: 'b1',
          subject: 'SLA missed: {{ deployment.flow }}/{{ deployment.name }}',
          body: '{{ firing.reason }}',
          to: ['ops@acme.test'],
        },
      ],
      enabled: true,
    });
    // Saved: the form closes and the list is fetched again.
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Create SLA' })).not.toBeInTheDocument());
    expect(api.requestsTo(`${WS}/slas/`).length).toBeGreaterThan(1);
  }, TYPING_TIMEOUT_MS);

  it('refuses an SLA with no action before sending anything', async () => {
    const api = stubBackend([]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/deployments/d1');
    await user.click(await screen.findByRole('button', { name: 'New SLA' }, FIRST_RENDER));
    const form = screen.getByRole('form', { name: 'Create SLA' });
    await user.type(within(form).getByLabelText('SLA name'), 'x');
    await user.click(within(form).getByRole('checkbox', { name: 'Send a notification' }));
    await user.click(within(form).getByRole('button', { name: 'Create SLA' }));
    expect(await within(form).findByText(/Pick at least one action/)).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/slas/`, 'POST')).toHaveLength(0);
  }, TYPING_TIMEOUT_MS);

  it('lists, edits, pauses and deletes an SLA', async () => {
    const api = stubBackend([STORED]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/deployments/d1');

    const item = await screen.findByRole('listitem', { name: 'SLA starts on time' }, FIRST_RENDER);
    expect(item).toHaveTextContent('Each run starts within 15 min of its scheduled time');
    expect(item).toHaveTextContent('then run-deployment');
    expect(within(item).getByRole('link', { name: 'firings' })).toHaveAttribute('href', '/o/acme/w/prod/automations/a1');

    await user.click(within(item).getByRole('button', { name: 'Edit SLA starts on time' }));
    const form = screen.getByRole('form', { name: 'Save SLA starts on time' });
    expect(within(form).getByLabelText('Must start within')).toHaveValue(15);
    expect(within(form).getByLabelText('Unit')).toHaveValue('minutes');
    const amount = within(form).getByLabelText('Must start within');
    await user.clear(amount);
    await user.type(amount, '30');
    await user.click(within(form).getByRole('button', { name: 'Save SLA starts on time' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/slas/s1/`, 'PATCH')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/slas/s1/`, 'PATCH')[0]?.body).toMatchObject({
      kind: 'start_within',
      seconds: 1800,
      actions: [{ type: 'run-deployment', deployment_id: 'd1', parameters: {} }],
    });

    await user.click(within(item).getByRole('button', { name: 'Pause SLA starts on time' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/slas/s1/`, 'PATCH')).toHaveLength(2));
    expect(api.requestsTo(`${WS}/slas/s1/`, 'PATCH')[1]?.body).toEqual({ enabled: false });

    await user.click(within(item).getByRole('button', { name: 'Delete… SLA starts on time' }));
    expect(api.requestsTo(`${WS}/slas/s1/`, 'DELETE')).toHaveLength(0);
    await user.click(within(item).getByRole('button', { name: 'Delete SLA starts on time' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/slas/s1/`, 'DELETE')).toHaveLength(1));
  }, TYPING_TIMEOUT_MS);
});
