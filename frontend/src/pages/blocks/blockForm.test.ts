import { describe, expect, it } from 'vitest';
import type { BlockType } from '../../api/types';
import { blockFields, buildBlockData } from './blockForm';

const SMTP = {
  id: 't1',
  slug: 'smtp',
  name: 'SMTP server',
  description: '',
  icon: 'mail',
  version: '1',
  is_standard: true,
  secret_fields: ['password'],
  created_at: '',
  updated_at: '',
  schema: {
    type: 'object',
    required: ['host'],
    properties: {
      host: { type: 'string', title: 'Host' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 587 },
      password: { type: 'string', title: 'Password', 'x-secret': true, format: 'password' },
    },
  },
} as BlockType;

describe('block form', () => {
  it('keeps a stored secret as the mask unless it is retyped', () => {
    const fields = blockFields(SMTP, { host: 'mail.acme.test', port: 25, password: '********' });
    const password = fields.find((field) => field.name === 'password');
    expect(password).toMatchObject({ secret: true, stored: true, initial: '********' });

    const kept = buildBlockData(fields, { host: 'smtp.acme.test', port: '25', password: '********' });
    expect(kept).toEqual({ ok: true, data: { host: 'smtp.acme.test', port: 25, password: '********' } });

    const changed = buildBlockData(fields, { host: 'smtp.acme.test', port: '25', password: 'n3w-pass' });
    expect(changed).toEqual({ ok: true, data: { host: 'smtp.acme.test', port: 25, password: 'n3w-pass' } });
  });

  it('treats a new block as having nothing stored, and validates like the schema', () => {
    const fields = blockFields(SMTP);
    expect(fields.find((field) => field.name === 'password')).toMatchObject({ secret: true, stored: false, initial: '' });
    expect(buildBlockData(fields, { host: '', port: '70000', password: '' })).toEqual({
      ok: false,
      errors: { host: 'Host is required.', port: 'port must be at most 65535.' },
    });
  });
});
