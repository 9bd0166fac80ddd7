import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { NAV_SECTIONS } from './navigation';
import { jsonResponse, stubFetch } from './test/fetch';
import { renderRoute } from './test/renderRoute';

function stubBackend() {
  stubFetch({
    '/api/v1/info/': () =>
      jsonResponse({
        name: 'Tether',
        version: '0.1.0',
        mode: 'embedded',
        api_schema_url: '/api/schema/',
        api_docs_url: '/api/docs/',
      }),
    '/readyz': () => jsonResponse({ status: 'ok', checks: { database: 'ok' } }),
  });
}

describe('routing', () => {
  it('shows a 404 page with a way home for unknown routes', async () => {
    stubBackend();
    const user = userEvent.setup();
    const { router } = renderRoute('/no/such/page');

    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByText('/no/such/page')).toBeInTheDocument();

    await user.click(screen.getByRole('link', { name: 'Go to Overview' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Overview' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
  });

  it('routes every unfinished sidebar section to a "Coming soon" page, not a 404', async () => {
    const unfinished = NAV_SECTIONS.filter((section) => !section.available);
    expect(unfinished.length).toBeGreaterThan(0);

    for (const section of unfinished) {
      const view = renderRoute(section.path);
      expect(await screen.findByRole('heading', { level: 1, name: section.label })).toBeInTheDocument();
      expect(screen.getByRole('heading', { name: 'Coming soon' })).toBeInTheDocument();
      expect(screen.queryByText('Page not found')).not.toBeInTheDocument();
      view.unmount();
    }
  });

  it('marks the current section in the sidebar navigation', async () => {
    renderRoute('/work-pools');

    const nav = screen.getByRole('navigation', { name: 'Main' });
    const current = await within(nav).findByRole('link', { current: 'page' });
    expect(current).toHaveAttribute('href', '/work-pools');
    expect(within(nav).getByRole('link', { name: /^Overview/ })).not.toHaveAttribute('aria-current');
  });
});
