import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { page, signedInRoutes, stubApi, WS } from '../../test/api';
import { jsonResponse } from '../../test/fetch';
import { renderRoute } from '../../test/renderRoute';

const SMTP_TYPE = {
  id: 't-smtp',
  slug: 'smtp',
  name: 'SMTP server',
  description: 'An SMTP server to send email through.',
  icon: 'mail',
  version: '1',
  is_standard: true,
  secret_fields: ['password'],
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  schema: {
    type: 'object',
    required: ['host'],
    properties: {
      host: { type: 'string', title: 'Host' },
      password: { type: 'string', title: 'Password', 'x-secret': true, format: 'password' },
    },
  },
};

const BLOCK = {
  id: 'b1',
  name: 'mailer',
  block_type: { id: 't-smtp', slug: 'smtp', name: 'SMTP server', icon: 'mail' },
  data: { host: 'mail.acme.test', password: '********' },
  undecryptable_fields: [],
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

function stubBackend(scopes: string[]) {
  return stubApi([
    ...signedInRoutes(),
    { path: `${WS}/block-types/`, respond: () => jsonResponse(page([SMTP_TYPE])) },
    { path: `${WS}/blocks/b1/`, respond: () => jsonResponse(BLOCK) },
    {
      method: 'PATCH',
      path: `${WS}/blocks/b1/`,
      respond: (request) =>
        jsonResponse({ ...BLOCK, ...(request.body as object), data: BLOCK.data, updated_at: '2025-01-02T00:00:00Z' }),
    },
    {
      path: `${WS}/access/`,
      respond: () => jsonResponse({ organization: 'acme', workspace: 'prod', role: 'developer', scopes, principal: 'x' }),
    },
    {
      method: 'POST',
      path: `${WS}/blocks/b1/reveal/`,
      respond: () => jsonResponse({ id: 'b1', name: 'mailer', block_type_slug: 'smtp', data: { password: 'hunter2' } }),
    },
  ]);
}

// Many keystrokes through user-event: slow on a busy CI machine, so more than vitest's 5 s.
const TYPING_TIMEOUT_MS = 15_000;

describe('block editor', () => {
  it('keeps the secret masked when other fields change, and sends the mask back', async () => {
    const api = stubBackend(['workspace:read', 'blocks:write']);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/blocks/b1');

    const password = await screen.findByLabelText(/Password/);
    expect(password).toHaveAttribute('type', 'password');
    expect(password).toHaveValue('********');
    const host = screen.getByLabelText(/Host/);
    await user.clear(host);
    await user.type(host, 'smtp.acme.test');
    await user.click(screen.getByRole('button', { name: 'Save block' }));

    await waitFor(() => expect(api.requestsTo(`${WS}/blocks/b1/`, 'PATCH')).toHaveLength(1));
    expect(api.requestsTo(`${WS}/blocks/b1/`, 'PATCH')[0]?.body).toEqual({
      name: 'mailer',
      data: { host: 'smtp.acme.test', password: '********' },
    });
    // The refetch that follows the save keeps the form and says so.
    expect(await screen.findByText('Saved. Secret fields stay masked.')).toBeInTheDocument();
    expect(screen.getByLabelText(/Password/)).toHaveValue('********');
    // Without blocks:reveal there is no way to see the plaintext.
    expect(screen.queryByRole('button', { name: 'Reveal secrets' })).not.toBeInTheDocument();
  }, TYPING_TIMEOUT_MS);

  it('offers reveal only to roles that hold blocks:reveal', async () => {
    stubBackend(['workspace:read', 'blocks:write', 'blocks:reveal']);
    const user = userEvent.setup();
    renderRoute('/o/acme/w/prod/blocks/b1');

    await user.click(await screen.findByRole('button', { name: 'Reveal secrets' }));
    expect(await screen.findByLabelText('Revealed values')).toHaveTextContent('hunter2');
  });
});
