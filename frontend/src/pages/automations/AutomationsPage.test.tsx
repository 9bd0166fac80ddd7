import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const AUTOMATION = {
  id: 'a1',
  name: 'Failed runs to Slack',
  description: '',
  enabled: true,
  trigger: { type: 'event', expect: ['tether.flow-run.Failed'] },
  actions: [{ type: 'send-notification', block_id: 'b1', subject: 's', body: 'b' }],
  sla_id: null,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

const SLACK_BLOCK = {
  id: 'b1',
  name: 'team-alerts',
  block_type: { id: 't1', slug: 'slack-webhook', name: 'Slack webhook', icon: '' },
  data: { url: '********' },
  undecryptable_fields: [],
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};
const S3_BLOCK = { ...SLACK_BLOCK, id: 'b2', name: 'bucket', block_type: { ...SLACK_BLOCK.block_type, slug: 's3', name: 'S3' } };
const DEPLOYMENT = { id: 'd1', name: 'hello', flow_name: 'greet' };

// Many keystrokes through user-event: slow on a busy CI machine, so more than vitest's 5 s.
const TYPING_TIMEOUT_MS = 15_000;

describe('automations list', () => {
  it('lists automations with their trigger and pauses one', async () => {
    let stored = AUTOMATION;
    const api = stubApi([
      ...signedInRoutes(),
      { path: `${WS}/automations/`, respond: () => jsonResponse(page([stored])) },
      {
        method: 'POST',
        path: `${WS}/automations/a1/pause/`,
        respond: () => {
          stored = { ...stored, enabled: false };
          return jsonResponse(stored);
        },
      },
    ]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/automations');

    const table = await screen.findByRole('table', { name: 'Automations' });
    const row = within(table).getByRole('row', { name: /Failed runs to Slack/ });
    expect(row).toHaveTextContent('Enabled');
    expect(row).toHaveTextContent('When tether.flow-run.Failed');
    expect(row).toHaveTextContent('send-notification');
    await user.click(within(row).getByRole('button', { name: 'Pause Failed runs to Slack' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/automations/a1/pause/`, 'POST')).toHaveLength(1));
    expect(await within(row).findByText('Paused')).toBeInTheDocument();
    expect(within(row).getByRole('button', { name: 'Resume Failed runs to Slack' })).toBeInTheDocument();
  });
});

describe('new automation form', () => {
  it('submits an event trigger about a deployment with a notification through a picked block', async () => {
    const api = stubApi([
      ...signedInRoutes(),
      { path: `${WS}/deployments/`, respond: () => jsonResponse(page([DEPLOYMENT])) },
      { path: `${WS}/blocks/`, respond: () => jsonResponse(page([SLACK_BLOCK, S3_BLOCK])) },
      {
        method: 'POST',
        path: `${WS}/automations/`,
        respond: (request) => jsonResponse({ ...AUTOMATION, ...(request.body as object), id: 'a9' }, 201),
      },
      { path: `${WS}/automations/a9/`, respond: () => jsonResponse({ ...AUTOMATION, id: 'a9', name: 'On failure' }) },
      { path: `${WS}/automation-firings/`, respond: () => jsonResponse(page([])) },
    ]);
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/automations/new');

    const form = await screen.findByRole('form', { name: 'Create automation' });
    await user.type(within(form).getByLabelText('Name'), 'On failure');
    await user.selectOptions(await within(form).findByLabelText('About deployment'), 'greet/hello');
    const blockPicker = within(form).getByLabelText('Notification block');
    await waitFor(() => expect(within(blockPicker).getByRole('option', { name: /team-alerts/ })).toBeInTheDocument());
    // Only blocks a notification can go through are offered.
    expect(within(blockPicker).queryByRole('option', { name: /bucket/ })).not.toBeInTheDocument();
    await user.selectOptions(blockPicker, 'b1');
    await user.click(within(form).getByRole('button', { name: 'Create automation' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/automations/`, 'POST')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/automations/`, 'POST')[0]?.body).toEqual({
      name: 'On failure',
      trigger: {
        type: 'event',
        expect: ['tether.flow-run.Failed'],
        match_related: { 'tether.resource.id': 'tether.deployment.d1' },
      },
      actions: [
        {
          type: 'send-notification',
          block_id: 'b1',
          subject: '{{ flow_run.name }} is {{ flow_run.state }}',
          body: '{{ flow_run.url }}',
        },
      ],
    });
    await waitFor(() => expect(router.state.location.pathname).toBe('/o/acme/w/prod/automations/a9'));
    expect(await screen.findByText('Not fired yet')).toBeInTheDocument();
  }, TYPING_TIMEOUT_MS);

  it('submits a run-deployment action with JSON parameters, and refuses broken JSON', async () => {
    const api = stubApi([
      ...signedInRoutes(),
      { path: `${WS}/deployments/`, respond: () => jsonResponse(page([DEPLOYMENT])) },
      { path: `${WS}/blocks/`, respond: () => jsonResponse(page([])) },
      { method: 'POST', path: `${WS}/automations/`, respond: () => jsonResponse({ ...AUTOMATION, id: 'a9' }, 201) },
    ]);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/automations/new');

    const form = await screen.findByRole('form', { name: 'Create automation' });
    await user.type(within(form).getByLabelText('Name'), 'Rerun');
    const events = within(form).getByLabelText('Events');
    await user.clear(events);
    await user.type(events, 'file.arrived');
    await user.selectOptions(within(form).getByLabelText('Action'), 'run-deployment');
    await user.selectOptions(await within(form).findByLabelText('Deployment to run'), 'greet/hello');
    const parameters = within(form).getByLabelText('Parameters (JSON)');
    await user.clear(parameters);
    // user-event reads { and [ as key descriptors: doubled, they type themselves.
    await user.type(parameters, '{{"who": 1');
    await user.click(within(form).getByRole('button', { name: 'Create automation' }));
    expect(await within(form).findByText('Parameters are not valid JSON.')).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/automations/`, 'POST')).toHaveLength(0);

    await user.type(parameters, '}');
    await user.click(within(form).getByRole('button', { name: 'Create automation' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/automations/`, 'POST')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/automations/`, 'POST')[0]?.body).toEqual({
      name: 'Rerun',
      trigger: { type: 'event', expect: ['file.arrived'] },
      actions: [{ type: 'run-deployment', deployment_id: 'd1', parameters: { who: 1 } }],
    });
  }, TYPING_TIMEOUT_MS);
});

describe('automation detail', () => {
  it('shows firings with action statuses and delivery attempts', async () => {
    stubApi([
      ...signedInRoutes(),
      { path: `${WS}/automations/a1/`, respond: () => jsonResponse(AUTOMATION) },
      {
        path: `${WS}/automation-firings/`,
        respond: (request) =>
          request.query.get('automation_id') === 'a1'
            ? jsonResponse(
                page([
                  {
                    id: 'f1',
                    automation_id: 'a1',
                    automation_name: AUTOMATION.name,
                    reason: 'tether.flow-run.Failed',
                    triggering_event: { id: 'e1', event: 'tether.flow-run.Failed' },
                    created_at: '2025-01-02T00:00:00Z',
                    action_runs: [
                      {
                        id: 'ar1',
                        index: 0,
                        type: 'send-notification',
                        status: 'failed',
                        attempts: 2,
                        next_attempt_at: null,
                        finished_at: '2025-01-02T00:00:05Z',
                        result: null,
                        error: 'HTTP 404',
                        deliveries: [
                          { attempt: 1, target: 'https://hooks.slack.com', outcome: 'failed', status_code: 503, error: '', duration_ms: 120, created_at: '2025-01-02T00:00:01Z' },
                          { attempt: 2, target: 'https://hooks.slack.com', outcome: 'failed', status_code: 404, error: '', duration_ms: 80, created_at: '2025-01-02T00:00:05Z' },
                        ],
                      },
                    ],
                  },
                ]),
              )
            : jsonResponse(page([])),
      },
    ]);
    renderRoute('/o/acme/w/prod/automations/a1');

    const firings = await screen.findByRole('list', { name: 'Firings' });
    expect(firings).toHaveTextContent('tether.flow-run.Failed');
    const row = within(firings).getByRole('row', { name: /send-notification/ });
    expect(row).toHaveTextContent('failed');
    expect(row).toHaveTextContent('HTTP 404');
    expect(row).toHaveTextContent('#1 failed · https://hooks.slack.com · HTTP 503 · 120 ms');
    expect(row).toHaveTextContent('#2 failed · https://hooks.slack.com · HTTP 404 · 80 ms');
  });
});

