/**
 * The events page's logic, kept out of React: filters → API query, the same name/resource
 * pattern matching the server does (so live events honour the filters), count buckets for the
 * chart, and merging live events into the list without duplicates.
 */
import type { CountInterval, EventQuery } from '../../api/events';
import type { EventCount } from '../../api/types';

export type TimeRange = '15m' | '1h' | '24h' | '7d' | '30d' | 'custom';

export interface EventFilters {
  /** An event name prefix (`tether.flow-run`) or a pattern with `*` (`tether.*.Failed`). */
  name: string;
  /** A resource id or pattern (`tether.flow-run.*`). */
  resourceId: string;
  range: TimeRange;
  /** `datetime-local` values (the browser's time zone), used when `range` is `custom`. */
  from: string;
  until: string;
}

export const DEFAULT_EVENT_FILTERS: EventFilters = { name: '', resourceId: '', range: '24h', from: '', until: '' };

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export const RANGE_LABELS: Record<TimeRange, string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  custom: 'Custom range',
};

const RANGE_MS: Record<Exclude<TimeRange, 'custom'>, number> = {
  '15m': 15 * MINUTE_MS,
  '1h': HOUR_MS,
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
};

export const INTERVAL_MS: Record<CountInterval, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

function parseLocal(value: string): number | undefined {
  if (!value) return undefined;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? undefined : time;
}

/** The window the filters ask for, in epoch ms; `until` is open (undefined) for "last …" ranges. */
export function timeWindow(filters: EventFilters, now: number): { since?: number; until?: number } {
  if (filters.range !== 'custom') return { since: now - RANGE_MS[filters.range] };
  const since = parseLocal(filters.from);
  const until = parseLocal(filters.until);
  return { ...(since !== undefined && { since }), ...(until !== undefined && { until }) };
}

/** A typed name becomes a prefix; a name with `*` is sent as the pattern it is. */
export function namePattern(name: string): string | undefined {
  const trimmed = name.trim();
  if (!trimmed) return undefined;
  return trimmed.includes('*') ? trimmed : `${trimmed}*`;
}

export function eventQuery(filters: EventFilters, now: number): EventQuery {
  const { since, until } = timeWindow(filters, now);
  return {
    event: namePattern(filters.name),
    resource_id: filters.resourceId.trim() || undefined,
    since: since === undefined ? undefined : new Date(since).toISOString(),
    until: until === undefined ? undefined : new Date(until).toISOString(),
  };
}

/** Buckets small enough to show a shape, few enough to draw (≤ ~720 bars). */
export function countInterval(filters: EventFilters, now: number): CountInterval {
  const { since, until = now } = timeWindow(filters, now);
  const span = since === undefined ? Infinity : until - since;
  if (span <= 6 * HOUR_MS) return 'minute';
  if (span <= 14 * DAY_MS) return 'hour';
  return 'day';
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches like the server's `events_filtered`: `x*` a prefix, other `*` a wildcard, else exact. */
export function matchesPattern(value: string, pattern: string): boolean {
  if (!pattern.includes('*')) return value === pattern;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(value);
}

interface EventLike {
  id: string;
  event: string;
  occurred: string;
  resource: unknown;
}

function resourceIdOf(event: EventLike): string {
  const resource = event.resource;
  if (typeof resource !== 'object' || resource === null) return '';
  const id = (resource as Record<string, unknown>)['tether.resource.id'];
  return typeof id === 'string' ? id : '';
}

/** Whether a live event belongs in the list the filters describe. */
export function matchesFilters(event: EventLike, filters: EventFilters, now: number): boolean {
  const name = namePattern(filters.name);
  if (name && !matchesPattern(event.event, name)) return false;
  const resource = filters.resourceId.trim();
  if (resource && !matchesPattern(resourceIdOf(event), resource)) return false;
  const occurred = new Date(event.occurred).getTime();
  const { since, until } = timeWindow(filters, now);
  if (since !== undefined && occurred < since) return false;
  if (until !== undefined && occurred >= until) return false;
  return true;
}

/** Live events kept on the page at most; older ones are on the server's pages. */
export const LIVE_EVENTS_MAX = 200;

/** `incoming` on top of `live`, newest first, unless an event with its id is already there. */
export function addLiveEvent<T extends EventLike>(live: readonly T[], incoming: T): T[] {
  if (live.some((event) => event.id === incoming.id)) return [...live];
  const merged = [incoming, ...live];
  merged.sort((a, b) => b.occurred.localeCompare(a.occurred));
  return merged.slice(0, LIVE_EVENTS_MAX);
}

/** The list to show: live events the page does not hold yet, then the page's; each id once. */
export function mergeEvents<T extends { id: string }>(live: readonly T[], fetched: readonly T[]): T[] {
  const fetchedIds = new Set(fetched.map((event) => event.id));
  const seen = new Set<string>();
  const fresh = live.filter((event) => {
    if (fetchedIds.has(event.id) || seen.has(event.id)) return false;
    seen.add(event.id);
    return true;
  });
  return [...fresh, ...fetched];
}

export interface Bucket {
  start: number;
  count: number;
}

/** The server's buckets with the empty ones between them filled in, oldest first, summed per start. */
export function fillBuckets(counts: readonly EventCount[], interval: CountInterval): Bucket[] {
  const byStart = new Map<number, number>();
  for (const row of counts) {
    const start = new Date(row.start).getTime();
    if (Number.isNaN(start)) continue;
    byStart.set(start, (byStart.get(start) ?? 0) + row.count);
  }
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  const first = starts[0];
  if (first === undefined) return [];
  const step = INTERVAL_MS[interval];
  const buckets: Bucket[] = [];
  // Day buckets follow the server's calendar days: resync on each real bucket instead of
  // trusting a fixed step across a daylight-saving change.
  let index = 0;
  for (let start = first; index < starts.length; ) {
    const next = starts[index];
    if (next !== undefined && next < start + step) {
      buckets.push({ start: next, count: byStart.get(next) ?? 0 });
      index += 1;
      start = next + step;
    } else {
      buckets.push({ start, count: 0 });
      start += step;
    }
  }
  return buckets;
}
