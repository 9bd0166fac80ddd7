/**
 * The workspace's live WebSocket (`/ws/v1/orgs/:org/workspaces/:ws/live`): reconnects with
 * backoff, re-sends its run subscriptions after a reconnect, and reports whether it is up so
 * pages poll only while it is down. Messages are hints to refetch, never data of record.
 */
import { type WorkspaceRef } from '../api/tenancy';

export type LiveMessage =
  | { type: 'ready' }
  | { type: 'pong' }
  | {
      type: 'flow_run';
      flow_run_id: string;
      state_type: string;
      state_name: string;
      deployment_id: string | null;
    }
  | { type: 'logs'; flow_run_id: string }
  | { type: 'event'; event: LiveEvent }
  | { type: 'events_dropped'; count: number }
  | { type: 'error'; message: string };

/** An event as the live socket sends it (after `subscribe_events`): the API's event without `received`. */
export interface LiveEvent {
  id: string;
  event: string;
  occurred: string;
  resource: Record<string, string>;
  related: Record<string, string>[];
  payload: Record<string, unknown>;
}

export type LiveStatus = 'connecting' | 'open' | 'down';

/** The subset of the browser's WebSocket this module uses (tests pass a fake). */
export interface SocketLike {
  readyState: number;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;
/** The server's "you may not read this workspace" close: reconnecting would not help. */
const CLOSE_FORBIDDEN = 4403;
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export function liveUrl(ref: WorkspaceRef, location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/v1/orgs/${encodeURIComponent(ref.org)}/workspaces/${encodeURIComponent(ref.ws)}/live`;
}

function parse(data: unknown): LiveMessage | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null && 'type' in value ? (value as LiveMessage) : undefined;
  } catch {
    return undefined;
  }
}

export class LiveConnection {
  private socket: SocketLike | undefined;
  private readonly subscriptions = new Map<string, number>();
  private eventSubscribers = 0;
  private readonly messageListeners = new Set<(message: LiveMessage) => void>();
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  status: LiveStatus = 'connecting';

  constructor(
    private readonly url: string,
    private readonly createSocket: SocketFactory = (target) => new WebSocket(target),
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  onMessage(listener: (message: LiveMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Ask for log notices of one run; counted, so two panels of one run can share it. */
  subscribe(flowRunId: string): () => void {
    const count = this.subscriptions.get(flowRunId) ?? 0;
    this.subscriptions.set(flowRunId, count + 1);
    if (count === 0) this.send({ type: 'subscribe', flow_run_id: flowRunId });
    return () => {
      const left = (this.subscriptions.get(flowRunId) ?? 1) - 1;
      if (left > 0) {
        this.subscriptions.set(flowRunId, left);
        return;
      }
      this.subscriptions.delete(flowRunId);
      this.send({ type: 'unsubscribe', flow_run_id: flowRunId });
    };
  }

  /** Ask for every new event of the workspace; counted like `subscribe`, re-sent after a reconnect. */
  subscribeEvents(): () => void {
    this.eventSubscribers += 1;
    if (this.eventSubscribers === 1) this.send({ type: 'subscribe_events' });
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.eventSubscribers -= 1;
      if (this.eventSubscribers === 0) this.send({ type: 'unsubscribe_events' });
    };
  }

  private send(message: object): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private open(): void {
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.retryLater();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      for (const flowRunId of this.subscriptions.keys()) this.send({ type: 'subscribe', flow_run_id: flowRunId });
      if (this.eventSubscribers > 0) this.send({ type: 'subscribe_events' });
    };
    socket.onmessage = (event) => {
      const message = parse(event.data);
      if (!message) return;
      if (message.type === 'ready') {
        this.attempts = 0;
        this.setStatus('open');
      }
      for (const listener of this.messageListeners) listener(message);
    };
    socket.onclose = (event) => {
      this.socket = undefined;
      this.setStatus('down');
      if (!this.stopped && event.code !== CLOSE_FORBIDDEN) this.retryLater();
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is handled there.
    };
  }

  private retryLater(): void {
    this.setStatus('down');
    if (this.stopped) return;
    const delay = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)] ?? 30_000;
    this.attempts += 1;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
