import { useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { WorkspaceRef } from '../api/tenancy';
import type { FlowRun } from '../api/types';
import { LiveConnection, liveUrl, type LiveMessage, type LiveStatus, type SocketFactory } from './connection';

interface LiveContextValue {
  status: LiveStatus;
  connection: LiveConnection | undefined;
}

const LiveContext = createContext<LiveContextValue>({ status: 'down', connection: undefined });

/** Bursts of notices (a run's logs arrive in batches) cost one refetch per query, not one each. */
export const COALESCE_MS = 500;

/** What to refresh for one message; exported for tests. */
export function keysFor(ref: WorkspaceRef, message: LiveMessage): QueryKey[] {
  if (message.type === 'flow_run') {
    return [['flow-run', ref, message.flow_run_id], ['flow-runs', ref], ['counts', ref], ['dashboard', ref]];
  }
  if (message.type === 'logs') return [['logs', ref, message.flow_run_id]];
  return [];
}

function patchRun(client: QueryClient, ref: WorkspaceRef, message: Extract<LiveMessage, { type: 'flow_run' }>) {
  // Show the new state at once; the refetch that follows brings the rest (times, attempts).
  client.setQueryData<FlowRun>(['flow-run', ref, message.flow_run_id], (run) =>
    run ? { ...run, state_type: message.state_type as FlowRun['state_type'], state_name: message.state_name } : run,
  );
}

/**
 * One live socket for the workspace in the URL. Messages refresh the TanStack Query caches
 * that show runs and logs; while the socket is down, pages fall back to polling
 * (see `usePollWhileOffline`).
 */
export function LiveProvider({
  workspace,
  children,
  createSocket,
}: {
  workspace: WorkspaceRef;
  children: ReactNode;
  createSocket?: SocketFactory;
}) {
  const client = useQueryClient();
  const [value, setValue] = useState<LiveContextValue>({ status: 'connecting', connection: undefined });
  const { org, ws } = workspace;

  useEffect(() => {
    const ref = { org, ws };
    const connection = new LiveConnection(liveUrl(ref), createSocket);
    const pending = new Map<string, QueryKey>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      for (const key of pending.values()) void client.invalidateQueries({ queryKey: key });
      pending.clear();
    };
    const stopMessages = connection.onMessage((message) => {
      if (message.type === 'flow_run') patchRun(client, ref, message);
      for (const key of keysFor(ref, message)) pending.set(JSON.stringify(key), key);
      if (pending.size > 0 && timer === undefined) timer = setTimeout(flush, COALESCE_MS);
    });
    const stopStatus = connection.onStatus((status) => {
      setValue({ status, connection });
      // Whatever happened while the socket was down was not announced: catch up once.
      if (status === 'open') void client.invalidateQueries({ queryKey: ['flow-runs', ref] });
    });
    setValue({ status: 'connecting', connection });
    connection.start();
    return () => {
      stopMessages();
      stopStatus();
      clearTimeout(timer);
      connection.stop();
    };
  }, [client, org, ws, createSocket]);

  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveContextValue {
  return useContext(LiveContext);
}

/** `intervalMs` while the live socket is not open, `false` (no polling) while it is. */
export function usePollWhileOffline(intervalMs: number): number | false {
  return useLive().status === 'open' ? false : intervalMs;
}

/** Receive log notices for `flowRunId` while the calling component is mounted and `active`. */
export function useLiveRun(flowRunId: string, active = true): void {
  const { connection } = useLive();
  useEffect(() => {
    if (!connection || !active || !flowRunId) return undefined;
    return connection.subscribe(flowRunId);
  }, [connection, flowRunId, active]);
}

export type LiveEventMessage = Extract<LiveMessage, { type: 'event' | 'events_dropped' }>;

/**
 * While the calling component is mounted and `active`, ask the socket for the workspace's new
 * events and hand each `event` / `events_dropped` message to `listener` (the latest one given).
 */
export function useLiveEvents(listener: (message: LiveEventMessage) => void, active = true): void {
  const { connection } = useLive();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (!connection || !active) return undefined;
    const stopMessages = connection.onMessage((message) => {
      if (message.type === 'event' || message.type === 'events_dropped') latest.current(message);
    });
    const unsubscribe = connection.subscribeEvents();
    return () => {
      unsubscribe();
      stopMessages();
    };
  }, [connection, active]);
}
