import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { FakeSocket } from '../../test/fakeSocket';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

// The first render waits for the session and a lazily loaded page: slow while other test files start.
const FIRST_RENDER = { timeout: 20_000 };

// Lazy page loads and user-event typing are slow on a loaded 2-core CI machine.
const PAGE_TIMEOUT_MS = 30_000;

function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

function apiEvent(id: string, name: string, occurred: string, resourceId = `tether.flow-run.${id}`) {
  return {
    id,
    event: name,
    occurred,
    received: occurred,
    resource: { 'tether.resource.id': resourceId, 'tether.resource.name': `run-${id}` },
    related: [{ 'tether.resource.id': 'tether.deployment.d1', 'tether.resource.role': 'deployment' }],
    payload: { intended: { from: 'RUNNING', to: 'FAILED' } },
  };
}

function liveEvent(id: string, name: string, occurred: string) {
  const { received: _received, ...rest } = apiEvent(id, name, occurred);
  return rest;
}

function bodyRows(table: HTMLElement): HTMLElement[] {
  return within(table).getAllByRole('row').slice(1);
}

const FETCHED = [apiEvent('e2', 'tether.flow-run.Failed', minutesAgo(5)), apiEvent('e1', 'tether.flow-run.Running', minutesAgo(10))];

function stubEvents() {
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/events/`, respond: () => jsonResponse(page(FETCHED)) },
    {
      path: `${WS}/events/counts/`,
      respond: () => jsonResponse([{ start: new Date(Date.now() - 3_600_000).toISOString().slice(0, 13) + ':00:00Z', count: 2 }]),
    },
  ]);
}

describe('events page', () => {
  it('lists events with a counts chart, and asks for the last 24 hours by hour', async () => {
    const api = stubEvents();
    renderRoute('/o/acme/w/prod/events');

    const table = await screen.findByRole('table', { name: 'Events' }, FIRST_RENDER);
    expect(bodyRows(table).map((row) => within(row).getAllByRole('cell')[1]?.textContent)).toEqual([
      'tether.flow-run.Failed',
      'tether.flow-run.Running',
    ]);
    // A flow run resource links to its run page.
    expect(within(table).getByRole('link', { name: 'run-e2 (tether.flow-run.e2)' })).toHaveAttribute(
      'href',
      '/o/acme/w/prod/flow-runs/e2',
    );
    expect(await screen.findByRole('img', { name: 'Events per hour' })).toBeInTheDocument();
    expect(screen.getByText(/2 events per hour/)).toBeInTheDocument();

    const [list] = api.requestsTo(`${WS}/events/`);
    const since = Date.parse(list?.query.get('since') ?? '');
    expect(Math.abs(Date.now() - 86_400_000 - since)).toBeLessThan(60_000);
    expect(list?.query.get('event')).toBeNull();
    expect(api.requestsTo(`${WS}/events/counts/`)[0]?.query.get('interval')).toBe('hour');
  }, PAGE_TIMEOUT_MS);

  it('sends the filters to the API', async () => {
    const api = stubEvents();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/events');

    const form = await screen.findByRole('form', { name: 'Event filters' }, FIRST_RENDER);
    await user.type(within(form).getByLabelText('Event name'), 'tether.flow-run');
    await user.type(within(form).getByLabelText('Resource id'), 'tether.flow-run.*');
    await user.selectOptions(within(form).getByLabelText('Time range'), '15m');
    await user.click(within(form).getByRole('button', { name: 'Apply filters' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/events/`).at(-1)?.query.get('event')).toBe('tether.flow-run*'));
    const last = api.requestsTo(`${WS}/events/`).at(-1);
    expect(last?.query.get('resource_id')).toBe('tether.flow-run.*');
    expect(Math.abs(Date.now() - 15 * 60_000 - Date.parse(last?.query.get('since') ?? ''))).toBeLessThan(60_000);
    await waitFor(() => expect(api.requestsTo(`${WS}/events/counts/`).at(-1)?.query.get('interval')).toBe('minute'));
  }, PAGE_TIMEOUT_MS);

  it('subscribes on the live socket, prepends new events once each, and offers a refresh after drops', async () => {
    const api = stubEvents();
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/events');
    const table = await screen.findByRole('table', { name: 'Events' }, FIRST_RENDER);
    const socket = FakeSocket.latest();
    act(() => socket.open());
    await waitFor(() => expect(socket.sent).toContainEqual({ type: 'subscribe_events' }));

    act(() => socket.receive({ type: 'event', event: liveEvent('e3', 'tether.flow-run.Completed', minutesAgo(0)) }));
    await waitFor(() => expect(bodyRows(table)).toHaveLength(3));
    expect(bodyRows(table)[0]).toHaveTextContent('tether.flow-run.Completed');
    expect(bodyRows(table)[0]).toHaveTextContent('(new)');

    // The same event again, and one the page fetched already: nothing new to show.
    act(() => {
      socket.receive({ type: 'event', event: liveEvent('e3', 'tether.flow-run.Completed', minutesAgo(0)) });
      socket.receive({ type: 'event', event: liveEvent('e2', 'tether.flow-run.Failed', FETCHED[0]?.occurred ?? '') });
    });
    // An event older than the range is not this list's either.
    act(() => socket.receive({ type: 'event', event: liveEvent('old', 'tether.flow-run.Late', minutesAgo(3 * 24 * 60)) }));
    act(() => socket.receive({ type: 'event', event: liveEvent('e4', 'file.arrived', minutesAgo(0)) }));
    await waitFor(() => expect(bodyRows(table)).toHaveLength(4));
    expect(bodyRows(table).map((row) => row.dataset['live'] === 'true')).toEqual([true, true, false, false]);
    expect(within(table).queryByText('tether.flow-run.Late')).not.toBeInTheDocument();

    act(() => {
      socket.receive({ type: 'events_dropped', count: 2 });
      socket.receive({ type: 'events_dropped', count: 1 });
    });
    const notice = await screen.findByText(/3 events not shown/);
    const fetchesBefore = api.requestsTo(`${WS}/events/`).length;
    await user.click(within(notice).getByRole('button', { name: 'refresh' }));
    await waitFor(() => expect(screen.queryByText(/events not shown/)).not.toBeInTheDocument());
    await waitFor(() => expect(api.requestsTo(`${WS}/events/`).length).toBeGreaterThan(fetchesBefore));
    const refreshed = await screen.findByRole('table', { name: 'Events' });
    await waitFor(() => expect(bodyRows(refreshed)).toHaveLength(2));

    // Leaving the page (the workspace's socket stays open) stops the event stream.
    await act(() => router.navigate('/o/acme/w/prod/variables'));
    await waitFor(() => expect(socket.sent).toContainEqual({ type: 'unsubscribe_events' }));
  }, PAGE_TIMEOUT_MS);

  it('only prepends live events that match the filters', async () => {
    stubEvents();
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/events');
    const form = await screen.findByRole('form', { name: 'Event filters' }, FIRST_RENDER);
    await user.type(within(form).getByLabelText('Event name'), 'file.');
    await user.click(within(form).getByRole('button', { name: 'Apply filters' }));
    const socket = FakeSocket.latest();
    act(() => socket.open());
    await waitFor(() => expect(socket.sent).toContainEqual({ type: 'subscribe_events' }));

    act(() => {
      socket.receive({ type: 'event', event: liveEvent('x1', 'tether.flow-run.Failed', minutesAgo(0)) });
      socket.receive({ type: 'event', event: liveEvent('x2', 'file.arrived', minutesAgo(0)) });
    });
    const table = await screen.findByRole('table', { name: 'Events' });
    await waitFor(() => expect(within(table).getByText('file.arrived')).toBeInTheDocument());
    expect(bodyRows(table).filter((row) => row.dataset['live'] === 'true')).toHaveLength(1);
  }, PAGE_TIMEOUT_MS);
});
