import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { signedInRoutes, stubApi } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const INFO = {
  name: 'Tether',
  version: '0.1.0',
  mode: 'production',
  api_schema_url: '/api/schema/',
  api_docs_url: '/api/docs/',
};

async function checkRow(name: string): Promise<HTMLElement> {
  const list = await screen.findByRole('list', { name: 'Readiness checks' });
  const row = within(list)
    .getAllByRole('listitem')
    .find((item) => item.textContent?.startsWith(name));
  if (!row) throw new Error(`No readiness row for ${name}`);
  return row;
}

function pillIn(row: HTMLElement): HTMLElement {
  const pill = row.querySelector<HTMLElement>('[data-tone]');
  if (!pill) throw new Error('No status pill in row');
  return pill;
}

function stubBackend(handlers: Record<string, () => Response>) {
  stubApi([
    ...signedInRoutes(),
    ...Object.entries(handlers).map(([path, respond]) => ({ path, respond })),
  ]);
}

describe('Overview page', () => {
  it('shows version, mode, API links and healthy checks', async () => {
    stubBackend({
      '/api/v1/info/': () => jsonResponse(INFO),
      '/readyz': () => jsonResponse({ status: 'ok', checks: { database: 'ok', redis: 'not configured' } }),
    });

    renderRoute('/o/acme/w/prod/instance');

    expect(await screen.findByText('0.1.0')).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Instance' })).getByText('Production')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'API documentation' })).toHaveAttribute('href', '/api/docs/');
    expect(screen.getByRole('link', { name: 'OpenAPI schema' })).toHaveAttribute('href', '/api/schema/');

    const readiness = await screen.findByRole('region', { name: 'Readiness' });
    expect(await within(readiness).findByText('Ready')).toBeInTheDocument();

    const database = pillIn(await checkRow('Database'));
    expect(database).toHaveTextContent('OK');
    expect(database).toHaveAttribute('data-tone', 'success');

    const redis = pillIn(await checkRow('Redis'));
    expect(redis).toHaveTextContent('Not configured');
    expect(redis).toHaveAttribute('data-tone', 'neutral');
  });

  it('shows a failing check from a 503 readiness answer', async () => {
    stubBackend({
      '/api/v1/info/': () => jsonResponse({ ...INFO, mode: 'embedded' }),
      '/readyz': () =>
        jsonResponse(
          { status: 'unavailable', checks: { database: 'error: connection refused', redis: 'ok' } },
          503,
        ),
    });

    renderRoute('/o/acme/w/prod/instance');

    const readiness = await screen.findByRole('region', { name: 'Readiness' });
    expect(await within(readiness).findByText('Unavailable')).toBeInTheDocument();

    const databaseRow = await checkRow('Database');
    expect(pillIn(databaseRow)).toHaveAttribute('data-tone', 'danger');
    expect(pillIn(databaseRow)).toHaveTextContent('Error');
    expect(databaseRow).toHaveTextContent('connection refused');
    expect(pillIn(await checkRow('Redis'))).toHaveAttribute('data-tone', 'success');
    expect(await screen.findByText('Embedded')).toBeInTheDocument();
  });

  it("shows the server's error message when a request fails", async () => {
    stubBackend({
      '/api/v1/info/': () =>
        jsonResponse({ error: { code: 'internal_error', message: 'The info service is down.', details: {} } }, 500),
      '/readyz': () => jsonResponse({ status: 'ok', checks: { database: 'ok' } }),
    });

    renderRoute('/o/acme/w/prod/instance');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load instance details');
    expect(alert).toHaveTextContent('The info service is down.');
    expect(alert).toHaveTextContent('internal_error');
  });
});
