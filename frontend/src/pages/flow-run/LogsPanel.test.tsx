import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { flowRun, page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const LINES = [
  { id: 1, level: 20, message: 'Loaded 120 rows' },
  { id: 2, level: 30, message: 'Slow query' },
  { id: 3, level: 40, message: 'Boom: connection reset' },
].map((line) => ({
  flow_run_id: 'r1',
  task_run_id: null,
  source: 'engine',
  seq: line.id,
  name: 'tether',
  timestamp: '2025-01-01T12:00:00Z',
  ...line,
}));

function stubBackend(run = flowRun()) {
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/flow-runs/r1/`, respond: () => jsonResponse(run) },
    { path: `${WS}/flow-runs/r1/states/`, respond: () => jsonResponse([]) },
    { path: `${WS}/task-runs/`, respond: () => jsonResponse(page([])) },
    { path: `${WS}/artifacts/`, respond: () => jsonResponse(page([])) },
    {
      path: `${WS}/flow-runs/r1/logs/`,
      // Filtering happens on the server; this stub mimics `level` and `q`.
      respond: (request) => {
        const level = Number(request.query.get('level') ?? 0);
        const q = (request.query.get('q') ?? '').toLowerCase();
        return jsonResponse(
          page(LINES.filter((line) => line.level >= level && line.message.toLowerCase().includes(q)), 'next-cursor'),
        );
      },
    },
  ]);
}

function shownMessages(): string[] {
  const list = screen.getByRole('list', { name: 'Log lines' });
  return within(list)
    .getAllByRole('listitem')
    .map((item) => item.querySelector('.logs__message')?.textContent ?? '');
}

// Many keystrokes through user-event: slow on a busy CI machine, so more than vitest's 5 s.
const TYPING_TIMEOUT_MS = 15_000;

describe('run logs', () => {
  it('filters by minimum level and by search text through the API', async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/flow-runs/r1');

    await screen.findByRole('list', { name: 'Log lines' });
    expect(shownMessages()).toEqual(['Loaded 120 rows', 'Slow query', 'Boom: connection reset']);

    await user.selectOptions(screen.getByLabelText('Level'), 'Warning and above');
    await waitFor(() => expect(shownMessages()).toEqual(['Slow query', 'Boom: connection reset']));
    expect(api.requestsTo(`${WS}/flow-runs/r1/logs/`).at(-1)?.query.get('level')).toBe('30');

    await user.type(screen.getByLabelText('Search logs'), 'boom');
    await waitFor(() => expect(shownMessages()).toEqual(['Boom: connection reset']));
    const last = api.requestsTo(`${WS}/flow-runs/r1/logs/`).at(-1);
    expect(last?.query.get('q')).toBe('boom');
    expect(last?.query.get('level')).toBe('30');

    await user.clear(screen.getByLabelText('Search logs'));
    await user.type(screen.getByLabelText('Search logs'), 'nothing like this');
    expect(await screen.findByText('No log lines match.')).toBeInTheDocument();
  }, TYPING_TIMEOUT_MS);

  it('polls every 2 s while the run is live, and not once it has finished', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const live = stubBackend(flowRun({ state_type: 'RUNNING', state_name: 'Running', end_time: null }));
      const view = renderRoute('/o/acme/w/prod/flow-runs/r1');
      await screen.findByRole('list', { name: 'Log lines' });
      const before = live.requestsTo(`${WS}/flow-runs/r1/logs/`).length;
      await vi.advanceTimersByTimeAsync(4100);
      expect(live.requestsTo(`${WS}/flow-runs/r1/logs/`).length).toBeGreaterThanOrEqual(before + 2);
      view.unmount();

      const done = stubBackend(flowRun({ state_type: 'COMPLETED' }));
      renderRoute('/o/acme/w/prod/flow-runs/r1');
      await screen.findByRole('list', { name: 'Log lines' });
      const settled = done.requestsTo(`${WS}/flow-runs/r1/logs/`).length;
      await vi.advanceTimersByTimeAsync(4100);
      expect(done.requestsTo(`${WS}/flow-runs/r1/logs/`).length).toBe(settled);
    } finally {
      vi.useRealTimers();
    }
  });
});
