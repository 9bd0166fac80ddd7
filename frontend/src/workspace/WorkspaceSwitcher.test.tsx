import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi } from '../test/api';
import { jsonResponse } from '../test/fetch';
import { renderRoute } from '../test/renderRoute';

function stubBackend() {
  return stubApi([
    ...signedInRoutes(),
    { path: /\/flow-runs\/\?/, respond: () => jsonResponse(page([])) },
    { path: /\/deployments\/\?/, respond: () => jsonResponse(page([])) },
  ]);
}

describe('workspace switcher', () => {
  it("lists the user's organisations and the current organisation's workspaces", async () => {
    stubBackend();
    renderRoute('/o/acme/w/prod/flow-runs');

    const org = await screen.findByLabelText('Organisation');
    await screen.findByRole('option', { name: 'Beta' });
    expect(org).toHaveValue('acme');
    expect([...(org as HTMLSelectElement).options].map((o) => o.text)).toEqual(['Acme', 'Beta']);

    const ws = screen.getByLabelText('Workspace');
    await screen.findByRole('option', { name: 'Staging' });
    expect(ws).toHaveValue('prod');
    expect([...(ws as HTMLSelectElement).options].map((o) => o.text)).toEqual(['Production', 'Staging']);
  });

  it('switching the workspace keeps the current section and drops object ids', async () => {
    stubBackend();
    const user = userEvent.setup();
    // A run of prod does not exist in staging: the switch lands on the run list.
    const { router } = renderRoute('/o/acme/w/prod/flow-runs/r1');
    await screen.findByRole('option', { name: 'Staging' });

    await user.selectOptions(screen.getByLabelText('Workspace'), 'staging');

    expect(router.state.location.pathname).toBe('/o/acme/w/staging/flow-runs');
    expect(await screen.findByRole('heading', { level: 1, name: 'Flow runs' })).toBeInTheDocument();
  });

  it("switching the organisation opens that organisation's first workspace", async () => {
    const api = stubBackend();
    const user = userEvent.setup();
    const { router } = renderRoute('/o/acme/w/prod/flow-runs');
    await screen.findByRole('option', { name: 'Beta' });

    await user.selectOptions(screen.getByLabelText('Organisation'), 'beta');

    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/o/beta/w/main');
    expect(api.requestsTo('/api/v1/orgs/beta/workspaces/')).not.toHaveLength(0);
    expect(screen.getByLabelText('Workspace')).toHaveValue('main');
  });
});
