import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlowRun } from '../api/types';
import { FakeSocket } from '../test/fakeSocket';
import { LiveConnection, liveUrl } from './connection';
import { COALESCE_MS, LiveProvider, useLiveRun, usePollWhileOffline } from './LiveProvider';

const ref = { org: 'acme', ws: 'prod' };
const RUN_ID = '0b6e3c1e-1111-4222-8333-444455556666';

describe('LiveConnection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('builds the workspace URL with the page scheme', () => {
    expect(liveUrl(ref, { protocol: 'https:', host: 'tether.example:8443' })).toBe(
      'wss://tether.example:8443/ws/v1/orgs/acme/workspaces/prod/live',
    );
    expect(liveUrl(ref, { protocol: 'http:', host: '127.0.0.1:8000' })).toBe(
      'ws://127.0.0.1:8000/ws/v1/orgs/acme/workspaces/prod/live',
    );
  });

  it('reconnects after a drop with backoff and subscribes again', () => {
    const connection = new LiveConnection('ws://x/live', (url) => new FakeSocket(url));
    const statuses: string[] = [];
    connection.onStatus((status) => statuses.push(status));
    connection.start();
    const first = FakeSocket.latest();
    first.open();
    const unsubscribe = connection.subscribe(RUN_ID);
    expect(first.sent).toEqual([{ type: 'subscribe', flow_run_id: RUN_ID }]);

    first.drop();
    expect(connection.status).toBe('down');
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(999);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent).toEqual([{ type: 'subscribe', flow_run_id: RUN_ID }]);
    expect(statuses).toEqual(['open', 'down', 'open']);

    unsubscribe();
    expect(second.sent.at(-1)).toEqual({ type: 'unsubscribe', flow_run_id: RUN_ID });
    connection.stop();
  });

  it('stays closed when the server refuses the workspace', () => {
    const connection = new LiveConnection('ws://x/live', (url) => new FakeSocket(url));
    connection.start();
    FakeSocket.latest().open();
    FakeSocket.latest().drop(4403);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(connection.status).toBe('down');
  });
});

const RUN: Partial<FlowRun> = { id: RUN_ID, name: 'brave-otter', state_type: 'SCHEDULED', state_name: 'Scheduled' };

function RunView() {
  const poll = usePollWhileOffline(2000);
  useLiveRun(RUN_ID);
  const run = useQuery({ queryKey: ['flow-run', ref, RUN_ID], queryFn: () => fetchRun(), staleTime: Infinity });
  const logs = useQuery({ queryKey: ['logs', ref, RUN_ID, 0, ''], queryFn: () => fetchLogs(), staleTime: Infinity });
  return (
    <>
      <p>poll: {String(poll)}</p>
      <p>state: {run.data?.state_name}</p>
      <p>log fetches: {logs.data}</p>
    </>
  );
}

let runAnswer: Partial<FlowRun> = RUN;
let logFetches = 0;
const fetchRun = vi.fn(async () => runAnswer as FlowRun);
const fetchLogs = vi.fn(async () => ++logFetches);

describe('LiveProvider', () => {
  beforeEach(() => {
    runAnswer = RUN;
    logFetches = 0;
  });

  function renderLive() {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={client}>
        <LiveProvider workspace={ref} createSocket={(url) => new FakeSocket(url)}>
          <RunView />
        </LiveProvider>
      </QueryClientProvider>,
    );
    return client;
  }

  it('polls only while the socket is down', async () => {
    renderLive();
    expect(await screen.findByText('poll: 2000')).toBeInTheDocument();
    act(() => FakeSocket.latest().open());
    expect(await screen.findByText('poll: false')).toBeInTheDocument();
    act(() => FakeSocket.latest().drop());
    expect(await screen.findByText('poll: 2000')).toBeInTheDocument();
  });

  it('patches a run at once and refetches it and its logs on notices', async () => {
    renderLive();
    expect(await screen.findByText('state: Scheduled')).toBeInTheDocument();
    expect(await screen.findByText('log fetches: 1')).toBeInTheDocument();
    const socket = FakeSocket.latest();
    act(() => socket.open());
    // The page subscribed to its run's log notices once the socket was up.
    expect(socket.sent).toContainEqual({ type: 'subscribe', flow_run_id: RUN_ID });

    runAnswer = { ...RUN, state_type: 'RUNNING', state_name: 'Running', run_count: 1 };
    const before = fetchRun.mock.calls.length;
    act(() =>
      socket.receive({
        type: 'flow_run',
        flow_run_id: RUN_ID,
        state_type: 'RUNNING',
        state_name: 'Running',
        deployment_id: null,
      }),
    );
    // Patched before any refetch (that waits for the burst to end).
    expect(await screen.findByText('state: Running')).toBeInTheDocument();
    expect(fetchRun.mock.calls.length).toBe(before);
    await vi.waitFor(() => expect(fetchRun.mock.calls.length).toBe(before + 1), { timeout: COALESCE_MS * 4 });

    act(() => {
      socket.receive({ type: 'logs', flow_run_id: RUN_ID });
      socket.receive({ type: 'logs', flow_run_id: RUN_ID });
      socket.receive({ type: 'logs', flow_run_id: RUN_ID });
    });
    // Three notices in a burst: one refetch.
    expect(await screen.findByText('log fetches: 2')).toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, COALESCE_MS * 2));
    expect(screen.getByText('log fetches: 2')).toBeInTheDocument();

    // Another run's notices leave this one's queries alone.
    act(() => socket.receive({ type: 'logs', flow_run_id: 'another-run' }));
    await new Promise((resolve) => setTimeout(resolve, COALESCE_MS * 2));
    expect(screen.getByText('log fetches: 2')).toBeInTheDocument();
  });
});
