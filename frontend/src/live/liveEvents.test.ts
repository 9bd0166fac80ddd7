import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../test/fakeSocket';
import { LiveConnection } from './connection';

describe('LiveConnection event subscription', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('subscribes once for several listeners, again after a reconnect, and unsubscribes with the last', () => {
    const connection = new LiveConnection('ws://x/live', (url) => new FakeSocket(url));
    connection.start();
    const first = FakeSocket.latest();
    // Asked before the socket is open: sent when it opens.
    const stopA = connection.subscribeEvents();
    expect(first.sent).toEqual([]);
    first.open();
    expect(first.sent).toEqual([{ type: 'subscribe_events' }]);
    const stopB = connection.subscribeEvents();
    expect(first.sent).toEqual([{ type: 'subscribe_events' }]);

    first.drop();
    vi.advanceTimersByTime(1_000);
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent).toEqual([{ type: 'subscribe_events' }]);

    stopA();
    stopA(); // a second call must not release B's subscription
    expect(second.sent).toEqual([{ type: 'subscribe_events' }]);
    stopB();
    expect(second.sent.at(-1)).toEqual({ type: 'unsubscribe_events' });
    connection.stop();
  });

  it('hands event messages to listeners as they arrive', () => {
    const connection = new LiveConnection('ws://x/live', (url) => new FakeSocket(url));
    const received: unknown[] = [];
    connection.onMessage((message) => received.push(message));
    connection.start();
    const socket = FakeSocket.latest();
    socket.open();
    const event = { id: 'e1', event: 'x.y', occurred: '2025-01-01T00:00:00Z', resource: {}, related: [], payload: {} };
    socket.receive({ type: 'event', event });
    socket.receive({ type: 'events_dropped', count: 3 });
    expect(received.slice(1)).toEqual([
      { type: 'event', event },
      { type: 'events_dropped', count: 3 },
    ]);
    connection.stop();
  });
});
