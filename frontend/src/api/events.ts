import { apiGet } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type { EventCount, Page, TetherEvent } from './types';

/** The API's own filter names (`GET events/`, `GET events/counts/`). */
export interface EventQuery {
  event?: string | undefined;
  resource_id?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export type CountInterval = 'minute' | 'hour' | 'day';

/** A page of events, newest first: the first for the query, or a `next`/`previous` URL as given. */
export function fetchEvents(ref: WorkspaceRef, query: EventQuery, pageUrl?: string): Promise<Page<TetherEvent>> {
  return apiGet<Page<TetherEvent>>(pageUrl ?? wsPath(ref, 'events/', { ...query, page_size: 50 }));
}

/** Counts per time bucket. The server answers a plain list (the schema calls it a page): accept both. */
export async function fetchEventCounts(
  ref: WorkspaceRef,
  query: EventQuery,
  interval: CountInterval,
): Promise<EventCount[]> {
  const answer = await apiGet<EventCount[] | Page<EventCount>>(wsPath(ref, 'events/counts/', { ...query, interval }));
  return Array.isArray(answer) ? answer : answer.results;
}
