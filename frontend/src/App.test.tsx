import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { NAV_SECTIONS } from './navigation';
import { signedInRoutes, stubApi } from './test/api';
import { jsonResponse } from './test/fetch';
import { renderRoute } from './test/renderRoute';

describe('routing', () => {
  it('sends a visitor without a session to the login page, remembering where they were going', async () => {
    stubApi([
      {
        path: '/_allauth/browser/v1/auth/session',
        respond: () => jsonResponse({ status: 401, data: { flows: [{ id: 'login' }] }, meta: { is_authenticated: false } }, 401),
      },
    ]);
    const { router } = renderRoute('/o/acme/w/prod/flow-runs');

    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/account/login');
    expect(router.state.location.search).toBe(`?next=${encodeURIComponent('/o/acme/w/prod/flow-runs')}`);
  });

  it('opens the first workspace of the first organisation from /', async () => {
    stubApi(signedInRoutes());
    const { router } = renderRoute('/');
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/o/acme/w/prod');
  });

  it('shows a 404 page with a way home for unknown routes', async () => {
    stubApi(signedInRoutes());
    const user = userEvent.setup();
    const { router } = renderRoute('/no/such/page');

    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByText('/no/such/page')).toBeInTheDocument();

    await user.click(screen.getByRole('link', { name: 'Go to the start page' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/o/acme/w/prod');
  });

  it('routes every sidebar section to its page, or "Coming soon" while unfinished, never to a 404', async () => {
    stubApi(signedInRoutes());
    for (const section of NAV_SECTIONS) {
      const view = renderRoute(`/o/acme/w/prod/${section.path}`);
      const heading = await screen.findByRole('heading', { level: 1 });
      expect(heading).not.toHaveTextContent('Page not found');
      if (!section.available) {
        expect(heading).toHaveTextContent(section.label);
        expect(screen.getByRole('heading', { name: 'Coming soon' })).toBeInTheDocument();
      } else {
        expect(screen.queryByRole('heading', { name: 'Coming soon' })).not.toBeInTheDocument();
      }
      view.unmount();
    }
    // One lazy page after another: slow on a loaded 2-core machine.
  }, 60_000);

  it('marks the current section in the sidebar navigation, with workspace-scoped links', async () => {
    stubApi(signedInRoutes());
    renderRoute('/o/acme/w/prod/work-pools');

    const nav = await screen.findByRole('navigation', { name: 'Main' });
    const current = await within(nav).findByRole('link', { current: 'page' });
    expect(current).toHaveAttribute('href', '/o/acme/w/prod/work-pools');
    expect(within(nav).getByRole('link', { name: /^Dashboard/ })).not.toHaveAttribute('aria-current');
    expect(within(nav).getByRole('link', { name: /^Flow runs/ })).toHaveAttribute('href', '/o/acme/w/prod/flow-runs');
  });

  it('signs out and returns to the login page', async () => {
    const api = stubApi([
      ...signedInRoutes(),
      {
        method: 'DELETE',
        path: '/_allauth/browser/v1/auth/session',
        respond: () => jsonResponse({ status: 401, data: { flows: [] } }, 401),
      },
    ]);
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod');

    await user.click(await screen.findByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/account/login');
    expect(api.requestsTo('/_allauth/browser/v1/auth/session', 'DELETE')).toHaveLength(1);
  });
});
