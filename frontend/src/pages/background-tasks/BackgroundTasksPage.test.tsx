import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { TaskRun } from '../../api/types';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };

// Lazy page loads and user-event typing are slow on a loaded 2-core CI machine.
const PAGE_TIMEOUT_MS = 60_000;
import { runDuration, summariseWorkers } from './backgroundFilters';

function taskRun(overrides: Partial<TaskRun>): TaskRun {
  return {
    id: 't1',
    flow_run_id: null,
    name: 'send_email-1',
    task_key: 'app.tasks.send_email',
    dynamic_key: '',
    cache_key: '',
    tags: [],
    state_type: 'COMPLETED',
    state_name: 'Completed',
    state_timestamp: '2025-01-01T00:00:03Z',
    state_message: '',
    run_count: 1,
    max_retries: 2,
    start_time: '2025-01-01T00:00:01Z',
    end_time: '2025-01-01T00:00:03Z',
    total_run_time: 2,
    task_inputs: {},
    background: true,
    worker_name: 'worker-a',
    created_at: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

const RUNS = [
  taskRun({}),
  taskRun({ id: 't2', name: 'resize-9', task_key: 'app.tasks.resize_image', state_type: 'RUNNING', state_name: 'Running', end_time: null, worker_name: 'worker-b' }),
  taskRun({ id: 't3', name: 'send_email-2', state_type: 'SCHEDULED', state_name: 'Scheduled', start_time: null, end_time: null, worker_name: '' }),
];

describe('background task helpers', () => {
  it('summarises workers and measures durations', () => {
    expect(summariseWorkers(RUNS)).toEqual([
      { name: 'worker-a', running: 0, total: 1 },
      { name: 'worker-b', running: 1, total: 1 },
    ]);
    expect(runDuration({ start_time: '2025-01-01T00:00:01Z', end_time: '2025-01-01T00:00:03Z' })).toBe(2);
    expect(runDuration({ start_time: '2025-01-01T00:00:01Z', end_time: null }, Date.parse('2025-01-01T00:01:01Z'))).toBe(60);
    expect(runDuration({ start_time: null, end_time: null })).toBeUndefined();
  });
});

/** The task-runs list, filtered the way the server filters it. */
function stubTaskRuns() {
  return stubApi([
    ...signedInRoutes(),
    {
      path: `${WS}/task-runs/`,
      respond: (request) => {
        const states = request.query.getAll('state_type');
        const name = request.query.get('task_name')?.toLowerCase() ?? '';
        const key = request.query.get('task_key');
        return jsonResponse(
          page(
            RUNS.filter(
              (run) =>
                (!states.length || states.includes(run.state_type)) &&
                run.name.toLowerCase().includes(name) &&
                (!key || run.task_key === key),
            ),
          ),
        );
      },
    },
  ]);
}

describe('background tasks page', () => {
  it('lists background task runs with their worker, and filters by state, task name and task key on the server', async () => {
    const api = stubTaskRuns();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/background-tasks');

    const table = await screen.findByRole('table', { name: 'Background task runs' }, FIRST_RENDER);
    const first = api.requestsTo(`${WS}/task-runs/`)[0];
    expect(first?.query.get('background')).toBe('true');
    expect(first?.query.getAll('state_type')).toEqual([]);
    const running = within(table).getByRole('row', { name: /resize_image/ });
    expect(running).toHaveTextContent('Running');
    expect(running).toHaveTextContent('worker-b');
    expect(within(table).getByRole('row', { name: /send_email-2/ })).toHaveTextContent('not claimed');
    expect(screen.getByRole('list', { name: 'Task workers' })).toHaveTextContent('worker-b1 running');

    await user.click(screen.getByRole('checkbox', { name: 'Running' }));
    await user.click(screen.getByRole('checkbox', { name: 'Scheduled' }));
    await waitFor(() =>
      expect(api.requestsTo(`${WS}/task-runs/`).at(-1)?.query.getAll('state_type')).toEqual(['RUNNING', 'SCHEDULED']),
    );
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('row')).toHaveLength(3));

    await user.type(screen.getByLabelText('Task name'), 'RESIZE');
    await waitFor(() => expect(api.requestsTo(`${WS}/task-runs/`).at(-1)?.query.get('task_name')).toBe('RESIZE'));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('row')).toHaveLength(2));
    expect(within(screen.getByRole('table', { name: 'Background task runs' })).getByRole('row', { name: /resize_image/ })).toBeInTheDocument();
  }, PAGE_TIMEOUT_MS);

  it('narrows to exactly one task key from the table, until cleared', async () => {
    const api = stubTaskRuns();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/background-tasks');
    await waitFor(
      () => expect(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('row')).toHaveLength(4),
      FIRST_RENDER,
    );
    await user.click(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('button', { name: 'app.tasks.send_email' })[0]!);
    await waitFor(() => expect(api.requestsTo(`${WS}/task-runs/`).at(-1)?.query.get('task_key')).toBe('app.tasks.send_email'));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('row')).toHaveLength(3));
    expect(screen.queryByRole('row', { name: /resize_image/ })).not.toBeInTheDocument();
    await user.click(within(screen.getByRole('group', { name: 'Task key filter' })).getByRole('button', { name: 'Show all tasks' }));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Background task runs' })).getAllByRole('row')).toHaveLength(4));
    expect(api.requestsTo(`${WS}/task-runs/`).at(-1)?.query.get('task_key')).toBeNull();
  }, PAGE_TIMEOUT_MS);
});
