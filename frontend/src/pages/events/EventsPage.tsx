import { useQuery } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import { fetchEventCounts, fetchEvents } from '../../api/events';
import type { TetherEvent } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Pager } from '../../components/Pager';
import { Spinner } from '../../components/Spinner';
import { formatDateTime } from '../../format/time';
import { useLiveEvents, usePollWhileOffline, type LiveEventMessage } from '../../live/LiveProvider';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { EventCountsChart } from './EventCountsChart';
import { EventFiltersForm } from './EventFiltersForm';
import {
  addLiveEvent,
  countInterval,
  DEFAULT_EVENT_FILTERS,
  eventQuery,
  fillBuckets,
  matchesFilters,
  mergeEvents,
  type EventFilters,
} from './eventFeed';

/** A listed event: from the API, or from the live socket (which does not send `received`). */
type FeedEvent = Pick<TetherEvent, 'id' | 'event' | 'occurred' | 'resource' | 'related' | 'payload'>;

const COUNTS_REFRESH_MS = 30_000;

/** The workspace's event log: filters, counts over time, and new events as they happen. */
export default function EventsPage() {
  const ref = useWorkspaceRef();
  const [filters, setFilters] = useState<EventFilters>(DEFAULT_EVENT_FILTERS);
  // "Last 24 hours" is measured from when the filters were applied (or the feed refreshed),
  // so the query key stays still between refreshes.
  const [appliedAt, setAppliedAt] = useState(() => Date.now());
  const [pageUrl, setPageUrl] = useState<string | undefined>(undefined);
  const [live, setLive] = useState<FeedEvent[]>([]);
  const [dropped, setDropped] = useState(0);
  const query = eventQuery(filters, appliedAt);
  const interval = countInterval(filters, appliedAt);
  const onFirstPage = pageUrl === undefined;
  const poll = usePollWhileOffline(10_000);

  const events = useQuery({
    queryKey: ['events', ref, query, pageUrl],
    queryFn: () => fetchEvents(ref, query, pageUrl),
    refetchInterval: onFirstPage ? poll : false,
  });
  const counts = useQuery({
    queryKey: ['event-counts', ref, query, interval],
    queryFn: () => fetchEventCounts(ref, query, interval),
    refetchInterval: COUNTS_REFRESH_MS,
  });

  const onLive = useCallback(
    (message: LiveEventMessage) => {
      if (message.type === 'events_dropped') {
        setDropped((current) => current + message.count);
        return;
      }
      if (matchesFilters(message.event, filters, Date.now())) setLive((current) => addLiveEvent(current, message.event));
    },
    [filters],
  );
  useLiveEvents(onLive);

  function reset(next: EventFilters) {
    setFilters(next);
    setAppliedAt(Date.now());
    setPageUrl(undefined);
    setLive([]);
    setDropped(0);
  }

  const fetched = events.data?.results ?? [];
  const shown = onFirstPage ? mergeEvents<FeedEvent>(live, fetched) : fetched;
  const fetchedIds = new Set(fetched.map((event) => event.id));
  const liveIds = new Set(live.filter((event) => !fetchedIds.has(event.id)).map((event) => event.id));

  return (
    <>
      <PageHeader title="Events">Everything runs, agents, automations and your own code recorded, newest first.</PageHeader>
      <EventFiltersForm filters={filters} onApply={reset} />
      <Card title="Events over time">
        {counts.isPending && <Spinner label="Counting events…" />}
        {counts.isError && <ErrorNotice title="Could not count events" error={counts.error} />}
        {counts.data && <EventCountsChart buckets={fillBuckets(counts.data, interval)} interval={interval} />}
      </Card>
      <Card title="Feed" aside={<Button onClick={() => reset(filters)}>Refresh</Button>}>
        {dropped > 0 && (
          <p className="form-message form-message--info" role="status">
            {dropped} event{dropped === 1 ? '' : 's'} not shown — <Button onClick={() => reset(filters)}>refresh</Button>
          </p>
        )}
        {events.isPending && <Spinner label="Loading events…" />}
        {events.isError && <ErrorNotice title="Could not load events" error={events.error} />}
        {events.data && shown.length === 0 && (
          <EmptyState title="No events">
            <p>Nothing matches these filters yet. New events appear here as they happen.</p>
          </EmptyState>
        )}
        {shown.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Events</caption>
            <thead>
              <tr>
                <th scope="col">Occurred</th>
                <th scope="col">Event</th>
                <th scope="col">Resource</th>
                <th scope="col">Related</th>
                <th scope="col">Payload</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((event) => (
                <EventRow key={event.id} event={event} isLive={liveIds.has(event.id)} />
              ))}
            </tbody>
          </table>
        )}
        <Pager next={events.data?.next} previous={events.data?.previous} onPage={setPageUrl} label="Event pages" />
      </Card>
    </>
  );
}

function labels(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const FLOW_RUN_PREFIX = 'tether.flow-run.';

function ResourceLabel({ resource }: { resource: unknown }) {
  const link = useWorkspaceLink();
  const values = labels(resource);
  const id = typeof values['tether.resource.id'] === 'string' ? values['tether.resource.id'] : '';
  const name = typeof values['tether.resource.name'] === 'string' ? values['tether.resource.name'] : '';
  const text = name ? `${name} (${id})` : id;
  if (id.startsWith(FLOW_RUN_PREFIX)) return <Link to={link(`flow-runs/${id.slice(FLOW_RUN_PREFIX.length)}`)}>{text}</Link>;
  return <code>{text}</code>;
}

function EventRow({ event, isLive }: { event: FeedEvent; isLive: boolean }) {
  const related = Array.isArray(event.related) ? (event.related as unknown[]) : [];
  const payload = labels(event.payload);
  return (
    <tr className={isLive ? 'event-row--new' : undefined} data-live={isLive || undefined}>
      <td title={event.occurred}>
        {formatDateTime(event.occurred)}
        {isLive && <span className="visually-hidden"> (new)</span>}
      </td>
      <td>
        <code>{event.event}</code>
      </td>
      <td>
        <ResourceLabel resource={event.resource} />
      </td>
      <td>
        {related.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="plain-list">
            {related.map((item, index) => (
              <li key={index}>
                <ResourceLabel resource={item} />
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {Object.keys(payload).length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <details className="event-payload">
            <summary>Payload</summary>
            <pre className="code-block">{JSON.stringify(payload, null, 2)}</pre>
          </details>
        )}
      </td>
    </tr>
  );
}
