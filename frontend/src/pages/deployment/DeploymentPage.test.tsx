import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { flowRun, page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const DEPLOYMENT = {
  id: 'd1',
  name: 'nightly',
  flow_id: 'f1',
  flow_name: 'etl',
  description: '',
  version: '',
  entrypoint: 'flows.py:etl',
  source: {},
  parameters: { region: 'eu' },
  parameter_schema: {
    type: 'object',
    properties: {
      rows: { type: 'integer', title: 'Rows', minimum: 1 },
      region: { type: 'string', enum: ['eu', 'us'], title: 'Region' },
      notify: { type: 'boolean', title: 'Notify', default: false },
      extra: { type: 'object', title: 'Extra' },
    },
    required: ['rows'],
  },
  enforce_parameter_schema: true,
  work_pool_id: 'p1',
  work_pool_name: 'main',
  work_pool_type: 'process',
  work_queue_id: 'q1',
  work_queue_name: 'default',
  tags: ['nightly'],
  job_variables: {},
  paused: false,
  concurrency_limit: null,
  collision_strategy: 'ENQUEUE',
  retries: 0,
  retry_delay_seconds: 0,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

function stubBackend() {
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/deployments/d1/`, respond: () => jsonResponse(DEPLOYMENT) },
    { path: `${WS}/deployments/d1/schedules/`, respond: () => jsonResponse(page([])) },
    {
      method: 'POST',
      path: `${WS}/deployments/d1/schedules/preview/`,
      respond: () => jsonResponse(['2030-01-01T09:00:00Z', '2030-01-02T09:00:00Z']),
    },
    { method: 'POST', path: `${WS}/flow-runs/`, respond: () => jsonResponse(flowRun({ id: 'new-run' }), 201) },
    { path: `${WS}/flow-runs/new-run/`, respond: () => jsonResponse(flowRun({ id: 'new-run', name: 'new-run-name' })) },
  ]);
}

describe('deployment run form', () => {
  it('validates against the schema before anything is sent', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/deployments/d1');

    const rows = await screen.findByLabelText(/^Rows/);
    await user.click(screen.getByRole('button', { name: 'Run' }));
    expect(await screen.findByText('Rows is required.')).toBeInTheDocument();
    expect(rows).toHaveAttribute('aria-invalid', 'true');

    await user.type(rows, '0');
    await user.type(screen.getByLabelText(/^Extra/), '[[');
    await user.click(screen.getByRole('button', { name: 'Run' }));
    expect(await screen.findByText('Rows must be at least 1.')).toBeInTheDocument();
    expect(screen.getByText('Extra must be valid JSON.')).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/flow-runs/`, 'POST')).toHaveLength(0);
  });

  it('posts the deployment id and typed parameters, then opens the new run', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/deployments/d1');

    await user.type(await screen.findByLabelText(/^Rows/), '250');
    expect(screen.getByLabelText(/^Region/)).toHaveValue('eu');
    await user.selectOptions(screen.getByLabelText(/^Region/), 'us');
    await user.click(screen.getByLabelText(/^Notify/));
    await user.type(screen.getByLabelText(/^Extra/), '{{"k": [[1]}');
    await user.click(screen.getByRole('button', { name: 'Run' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'new-run-name' })).toBeInTheDocument();
    expect(api.requestsTo(`${WS}/flow-runs/`, 'POST')[0]?.body).toEqual({
      deployment_id: 'd1',
      parameters: { rows: 250, region: 'us', notify: true, extra: { k: [1] } },
    });
    expect(router.state.location.pathname).toBe('/o/acme/w/prod/flow-runs/new-run');
  });

  it("shows the server's preview of the next runs for a new schedule", async () => {
    const api = stubBackend();
    renderRoute('/o/acme/w/prod/deployments/d1');
    const list = await screen.findByRole('list', { name: 'Next runs' });
    expect(list.querySelectorAll('li')).toHaveLength(2);
    const [preview] = api.requestsTo(`${WS}/deployments/d1/schedules/preview/`, 'POST');
    expect(preview?.body).toMatchObject({ kind: 'cron', cron: '0 9 * * *' });
  });
});
