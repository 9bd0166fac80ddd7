import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };

const GUIDED = {
  id: 'a1',
  name: 'Failed runs to Slack',
  description: '',
  enabled: true,
  trigger: { type: 'event', expect: ['tether.flow-run.Failed'], match_related: { 'tether.resource.id': 'tether.deployment.d1' } },
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
const DEPLOYMENTS = [
  { id: 'd1', name: 'hello', flow_name: 'greet' },
  { id: 'd2', name: 'bye', flow_name: 'greet' },
];

const TYPING_TIMEOUT_MS = 30_000;

function stubBackend(automation: object) {
  let stored = automation;
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/automations/a1/`, respond: () => jsonResponse(stored) },
    {
      method: 'PATCH',
      path: `${WS}/automations/a1/`,
      respond: (request) => {
        stored = { ...stored, ...(request.body as object) };
        return jsonResponse(stored);
      },
    },
    { method: 'DELETE', path: `${WS}/automations/a1/`, respond: () => new Response(null, { status: 204 }) },
    { path: `${WS}/automations/`, respond: () => jsonResponse(page([])) },
    { path: `${WS}/automation-firings/`, respond: () => jsonResponse(page([])) },
    { path: `${WS}/deployments/`, respond: () => jsonResponse(page(DEPLOYMENTS)) },
    { path: `${WS}/blocks/`, respond: () => jsonResponse(page([SLACK_BLOCK])) },
  ]);
}

describe('editing an automation', () => {
  it('edits a guided automation in the guided form and saves it with PATCH', async () => {
    const api = stubBackend(GUIDED);
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/automations/a1');

    await user.click(await screen.findByRole('link', { name: 'Edit' }, FIRST_RENDER));
    const form = await screen.findByRole('form', { name: 'Save automation' });
    expect(within(form).getByLabelText('Name')).toHaveValue('Failed runs to Slack');
    expect(within(form).getByLabelText('Events')).toHaveValue('tether.flow-run.Failed');
    await waitFor(() => expect(within(form).getByLabelText('About deployment')).toHaveValue('d1'));
    await waitFor(() => expect(within(form).getByLabelText('Notification block')).toHaveValue('b1'));
    await user.selectOptions(within(form).getByLabelText('About deployment'), 'greet/bye');
    await user.click(within(form).getByLabelText('Events'));
    await user.paste(', tether.flow-run.Crashed');
    await user.click(within(form).getByRole('button', { name: 'Save automation' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/automations/a1/`, 'PATCH')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/automations/a1/`, 'PATCH')[0]?.body).toEqual({
      name: 'Failed runs to Slack',
      trigger: {
        type: 'event',
        expect: ['tether.flow-run.Failed', 'tether.flow-run.Crashed'],
        match_related: { 'tether.resource.id': 'tether.deployment.d2' },
      },
      actions: [{ type: 'send-notification', block_id: 'b1', subject: 's', body: 'b' }],
    });
    await waitFor(() => expect(router.state.location.pathname).toBe('/o/acme/w/prod/automations/a1'));
    expect(await screen.findByLabelText('Trigger')).toHaveTextContent('tether.flow-run.Crashed');
  }, TYPING_TIMEOUT_MS);

  it('edits a compound automation as JSON and shows what is wrong with it first', async () => {
    const compound = {
      ...GUIDED,
      description: 'two things',
      trigger: { type: 'compound', require: 'all', triggers: [{ type: 'event', expect: ['a'] }, { type: 'event', expect: ['b'] }] },
    };
    const api = stubBackend(compound);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/automations/a1/edit');

    const form = await screen.findByRole('form', { name: 'Save automation' }, FIRST_RENDER);
    const trigger = within(form).getByLabelText('Trigger (JSON)');
    expect(JSON.parse((trigger as HTMLTextAreaElement).value)).toEqual(compound.trigger);
    await user.clear(trigger);
    await user.click(within(form).getByRole('button', { name: 'Save automation' }));
    expect(await within(form).findByText(/The trigger is a JSON object/)).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/automations/a1/`, 'PATCH')).toHaveLength(0);

    await user.click(trigger);
    await user.paste('{"type": "compound", "require": "any", "triggers": []}');
    await user.click(within(form).getByRole('button', { name: 'Save automation' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/automations/a1/`, 'PATCH')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/automations/a1/`, 'PATCH')[0]?.body).toEqual({
      name: 'Failed runs to Slack',
      description: 'two things',
      trigger: { type: 'compound', require: 'any', triggers: [] },
      actions: compound.actions,
    });
  }, TYPING_TIMEOUT_MS);

  it('deletes an automation after a confirmation, and goes back to the list', async () => {
    const api = stubBackend(GUIDED);
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/automations/a1');

    await user.click(await screen.findByRole('button', { name: 'Delete…' }, FIRST_RENDER));
    expect(api.requestsTo(`${WS}/automations/a1/`, 'DELETE')).toHaveLength(0);
    const confirm = screen.getByRole('group', { name: 'Confirm deletion' });
    expect(confirm).toHaveTextContent('Delete Failed runs to Slack and its firing history?');
    await user.click(within(confirm).getByRole('button', { name: 'Delete automation' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/automations/a1/`, 'DELETE')).toHaveLength(1));
    await waitFor(() => expect(router.state.location.pathname).toBe('/o/acme/w/prod/automations'));
    expect(await screen.findByText('No automations yet', {}, FIRST_RENDER)).toBeInTheDocument();
  }, TYPING_TIMEOUT_MS);

  it('offers neither edit nor delete for an automation an SLA owns', async () => {
    stubBackend({ ...GUIDED, sla_id: 's1' });
    renderRoute('/o/acme/w/prod/automations/a1');
    expect(await screen.findByText(/Owned by an SLA/, {}, FIRST_RENDER)).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Edit' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete…' })).not.toBeInTheDocument();
    // The toggle stays: pausing an SLA's automation is allowed.
    expect(screen.getByRole('button', { name: 'Pause Failed runs to Slack' })).toBeInTheDocument();
  }, TYPING_TIMEOUT_MS);
});
