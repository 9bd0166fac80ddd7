import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { flowRun, page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const RUNS = [
  flowRun({ id: 'r1', name: 'brave-otter', state_type: 'FAILED', state_name: 'Failed' }),
  flowRun({ id: 'r2', name: 'calm-heron', state_type: 'RUNNING', state_name: 'Running' }),
  flowRun({ id: 'r3', name: 'eager-lynx', state_type: 'COMPLETED', state_name: 'Completed' }),
];

function stubBackend() {
  return stubApi([
    ...signedInRoutes(),
    {
      path: `${WS}/flow-runs/`,
      // A tiny server-side filter, so the test sees what the filters select.
      respond: (request) => {
        const states = request.query.get('state_type')?.split(',') ?? [];
        return jsonResponse(page(RUNS.filter((run) => states.length === 0 || states.includes(run.state_type))));
      },
    },
    {
      path: `${WS}/deployments/`,
      respond: () => jsonResponse(page([{ id: 'd1', name: 'nightly', flow_name: 'etl' }])),
    },
    {
      method: 'POST',
      path: `${WS}/flow-runs/batch-cancel/`,
      respond: (request) =>
        jsonResponse(
          (request.body as { ids: string[] }).ids.map((id) =>
            id === 'r3' ? { id, ok: false, detail: 'Run is already finished.' } : { id, ok: true, detail: '' },
          ),
        ),
    },
    {
      method: 'POST',
      path: `${WS}/flow-runs/batch-delete/`,
      respond: (request) => jsonResponse((request.body as { ids: string[] }).ids.map((id) => ({ id, ok: true, detail: '' }))),
    },
  ]);
}

function rowNames(): string[] {
  const table = screen.getByRole('table', { name: 'Flow runs' });
  return within(table)
    .getAllByRole('link')
    .map((link) => link.textContent ?? '');
}

// Many keystrokes through user-event: slow on a busy CI machine, so more than vitest's 5 s.
const TYPING_TIMEOUT_MS = 15_000;

describe('flow runs list', () => {
  it('filters by state type, deployment and tag through the API', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/flow-runs');

    expect(await screen.findByRole('link', { name: 'brave-otter' })).toBeInTheDocument();
    expect(rowNames()).toEqual(['brave-otter', 'calm-heron', 'eager-lynx']);
    expect(api.requestsTo(`${WS}/flow-runs/`)[0]?.query.toString()).toBe('');

    await user.click(screen.getByRole('checkbox', { name: 'Failed' }));
    await user.click(screen.getByRole('checkbox', { name: 'Running' }));
    await waitFor(() => expect(rowNames()).toEqual(['brave-otter', 'calm-heron']));
    expect(api.requestsTo(`${WS}/flow-runs/`).at(-1)?.query.get('state_type')).toBe('FAILED,RUNNING');

    await user.selectOptions(await screen.findByLabelText('Deployment'), 'd1');
    await user.type(screen.getByLabelText('Tag'), 'daily{Enter}');
    await waitFor(() => expect(api.requestsTo(`${WS}/flow-runs/`).at(-1)?.query.getAll('tag')).toEqual(['daily']));
    const last = api.requestsTo(`${WS}/flow-runs/`).at(-1);
    expect(last?.query.get('deployment_id')).toBe('d1');
    expect(last?.query.get('state_type')).toBe('FAILED,RUNNING');

    await user.click(screen.getByRole('button', { name: 'Remove tag filter daily' }));
    await waitFor(() => expect(api.requestsTo(`${WS}/flow-runs/`).at(-1)?.query.has('tag')).toBe(false));
  }, TYPING_TIMEOUT_MS);

  it('cancels exactly the selected runs and reports refusals', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/flow-runs');

    await screen.findByRole('link', { name: 'brave-otter' });
    const cancel = screen.getByRole('button', { name: 'Cancel selected' });
    expect(cancel).toBeDisabled();

    await user.click(screen.getByRole('checkbox', { name: 'Select calm-heron' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select eager-lynx' }));
    expect(screen.getByText('2 selected')).toBeInTheDocument();

    await user.click(cancel);

    const [request] = api.requestsTo(`${WS}/flow-runs/batch-cancel/`, 'POST');
    expect(request?.body).toEqual({ ids: ['r2', 'r3'] });
    expect(await screen.findByText(/Cancelled 1; 1 refused \(Run is already finished\.\)/)).toBeInTheDocument();
    expect(screen.getByText('0 selected')).toBeInTheDocument();
  });

  it('selects the whole page at once and deletes after confirmation', async () => {
    const api = stubBackend();
    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/flow-runs');

    await screen.findByRole('link', { name: 'brave-otter' });
    await user.click(screen.getByRole('checkbox', { name: 'Select all runs on this page' }));
    expect(screen.getByText('3 selected')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Delete selected' }));
    expect(api.requestsTo(`${WS}/flow-runs/batch-delete/`, 'POST')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Delete selected' }));
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(api.requestsTo(`${WS}/flow-runs/batch-delete/`, 'POST')[0]?.body).toEqual({ ids: ['r1', 'r2', 'r3'] });
    expect(await screen.findByText('Deleted 3 runs.')).toBeInTheDocument();
  });

  it('clears the selection when the filters change', async () => {
    stubBackend();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/flow-runs');
    await screen.findByRole('link', { name: 'brave-otter' });
    await user.click(screen.getByRole('checkbox', { name: 'Select brave-otter' }));
    expect(screen.getByText('1 selected')).toBeInTheDocument();
    await user.click(screen.getByRole('checkbox', { name: 'Completed' }));
    expect(screen.getByText('0 selected')).toBeInTheDocument();
  });
});
