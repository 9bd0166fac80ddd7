import { describe, expect, it } from 'vitest';
import {
  addLiveEvent,
  countInterval,
  DEFAULT_EVENT_FILTERS,
  eventQuery,
  fillBuckets,
  LIVE_EVENTS_MAX,
  matchesFilters,
  matchesPattern,
  mergeEvents,
  namePattern,
  type EventFilters,
} from './eventFeed';

const NOW = Date.parse('2025-03-01T12:00:00Z');

function event(id: string, occurred: string, name = 'tether.flow-run.Failed', resourceId = 'tether.flow-run.r1') {
  return { id, occurred, event: name, resource: { 'tether.resource.id': resourceId } };
}

describe('eventQuery', () => {
  it('turns a name into a prefix pattern and a range into since', () => {
    const filters: EventFilters = { ...DEFAULT_EVENT_FILTERS, name: ' tether.flow-run ', resourceId: 'tether.flow-run.*', range: '1h' };
    expect(eventQuery(filters, NOW)).toEqual({
      event: 'tether.flow-run*',
      resource_id: 'tether.flow-run.*',
      since: '2025-03-01T11:00:00.000Z',
      until: undefined,
    });
  });

  it('sends a pattern with * as typed, and leaves empty filters out', () => {
    expect(namePattern('tether.*.Failed')).toBe('tether.*.Failed');
    expect(namePattern('   ')).toBeUndefined();
    const query = eventQuery({ ...DEFAULT_EVENT_FILTERS, range: 'custom' }, NOW);
    expect(query).toEqual({ event: undefined, resource_id: undefined, since: undefined, until: undefined });
  });

  it('reads a custom range in the browser time zone', () => {
    const filters: EventFilters = { ...DEFAULT_EVENT_FILTERS, range: 'custom', from: '2025-02-01T08:00', until: '2025-02-02T08:00' };
    const query = eventQuery(filters, NOW);
    expect(query.since).toBe(new Date(2025, 1, 1, 8, 0).toISOString());
    expect(query.until).toBe(new Date(2025, 1, 2, 8, 0).toISOString());
    expect(countInterval(filters, NOW)).toBe('hour');
  });

  it('picks buckets by the span', () => {
    expect(countInterval({ ...DEFAULT_EVENT_FILTERS, range: '15m' }, NOW)).toBe('minute');
    expect(countInterval({ ...DEFAULT_EVENT_FILTERS, range: '24h' }, NOW)).toBe('hour');
    expect(countInterval({ ...DEFAULT_EVENT_FILTERS, range: '30d' }, NOW)).toBe('day');
    expect(countInterval({ ...DEFAULT_EVENT_FILTERS, range: 'custom' }, NOW)).toBe('day');
  });
});

describe('matching live events', () => {
  it('matches patterns like the server', () => {
    expect(matchesPattern('tether.flow-run.Failed', 'tether.flow-run*')).toBe(true);
    expect(matchesPattern('tether.flow-run.Failed', 'tether.*.Failed')).toBe(true);
    expect(matchesPattern('tether.flow-run.Completed', 'tether.*.Failed')).toBe(false);
    expect(matchesPattern('tether.flow-run.Failed', 'tether.flow-run')).toBe(false);
    // Dots are literal, not "any character".
    expect(matchesPattern('tetherXflow', 'tether.flow*')).toBe(false);
  });

  it('applies the name, resource and time filters', () => {
    const filters: EventFilters = { ...DEFAULT_EVENT_FILTERS, name: 'tether.flow-run', resourceId: 'tether.flow-run.r1', range: '1h' };
    expect(matchesFilters(event('e1', '2025-03-01T11:59:00Z'), filters, NOW)).toBe(true);
    expect(matchesFilters(event('e2', '2025-03-01T11:59:00Z', 'file.arrived'), filters, NOW)).toBe(false);
    expect(matchesFilters(event('e3', '2025-03-01T11:59:00Z', 'tether.flow-run.Failed', 'tether.flow-run.r2'), filters, NOW)).toBe(false);
    expect(matchesFilters(event('e4', '2025-03-01T10:59:00Z'), filters, NOW)).toBe(false);
  });

  it('keeps a live event out of a custom range that has ended', () => {
    const filters: EventFilters = { ...DEFAULT_EVENT_FILTERS, range: 'custom', from: '', until: '2025-02-01T00:00' };
    expect(matchesFilters(event('e1', '2025-03-01T11:59:00Z'), filters, NOW)).toBe(false);
  });
});

describe('merging live events', () => {
  it('prepends new events, newest first, and ignores an id seen before', () => {
    let live = addLiveEvent([], event('e1', '2025-03-01T11:00:00Z'));
    live = addLiveEvent(live, event('e2', '2025-03-01T11:01:00Z'));
    live = addLiveEvent(live, event('e1', '2025-03-01T11:00:00Z'));
    // Out of order arrival still lists newest first.
    live = addLiveEvent(live, event('e0', '2025-03-01T10:59:00Z'));
    expect(live.map((item) => item.id)).toEqual(['e2', 'e1', 'e0']);
  });

  it('keeps at most LIVE_EVENTS_MAX live events', () => {
    let live: ReturnType<typeof event>[] = [];
    for (let index = 0; index < LIVE_EVENTS_MAX + 5; index += 1) {
      live = addLiveEvent(live, event(`e${index}`, new Date(NOW + index * 1000).toISOString()));
    }
    expect(live).toHaveLength(LIVE_EVENTS_MAX);
    expect(live[0]?.id).toBe(`e${LIVE_EVENTS_MAX + 4}`);
  });

  it('shows an event both live and fetched once, live first', () => {
    const merged = mergeEvents([{ id: 'e3' }, { id: 'e2' }], [{ id: 'e2' }, { id: 'e1' }]);
    expect(merged.map((item) => item.id)).toEqual(['e3', 'e2', 'e1']);
  });
});

describe('fillBuckets', () => {
  it('fills the empty buckets between the counted ones and sums per start', () => {
    const buckets = fillBuckets(
      [
        { start: '2025-03-01T10:00:00Z', count: 2 },
        { start: '2025-03-01T13:00:00Z', count: 1 },
        { start: '2025-03-01T10:00:00Z', event: 'x', count: 3 },
      ],
      'hour',
    );
    expect(buckets.map((bucket) => [new Date(bucket.start).toISOString(), bucket.count])).toEqual([
      ['2025-03-01T10:00:00.000Z', 5],
      ['2025-03-01T11:00:00.000Z', 0],
      ['2025-03-01T12:00:00.000Z', 0],
      ['2025-03-01T13:00:00.000Z', 1],
    ]);
    expect(fillBuckets([], 'minute')).toEqual([]);
  });

  it('follows day buckets that are 23 hours apart (a daylight-saving change)', () => {
    const buckets = fillBuckets(
      [
        { start: '2025-03-29T23:00:00Z', count: 1 },
        { start: '2025-03-30T22:00:00Z', count: 4 },
      ],
      'day',
    );
    expect(buckets.map((bucket) => bucket.count)).toEqual([1, 4]);
  });
});
