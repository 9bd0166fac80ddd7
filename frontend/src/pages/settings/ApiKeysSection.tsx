import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createApiKey, fetchApiKeys, revokeApiKey } from '../../api/org';
import type { ApiKeyCreated } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { CopyButton } from '../../components/CopyButton';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { StatusPill } from '../../components/StatusPill';
import { formatDateTime, formatRelative } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';

/**
 * Personal API keys. The secret exists in the create answer only: it is kept in this
 * component's state until dismissed and never written to the query cache.
 */
export function ApiKeysSection() {
  const { org, ws } = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);

  const keys = useQuery({ queryKey: ['api-keys', org], queryFn: () => fetchApiKeys(org) });
  const create = useMutation({
    mutationFn: () => createApiKey(org, { name: name.trim(), workspace: ws }),
    onSuccess: async (key) => {
      setCreated(key);
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['api-keys', org] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => revokeApiKey(org, id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-keys', org] }),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setCreated(null);
    create.mutate();
  }

  return (
    <Card title="API keys">
      <form className="form form--inline" onSubmit={submit} aria-label="Create API key">
        <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} required />
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create key
        </Button>
      </form>
      {create.isError && (
        <ErrorNotice
          title="Could not create the key"
          error={create.error}
        />
      )}
      {created && (
        <div className="secret" role="region" aria-label="New API key">
          <FormMessage tone="info">
            Copy this key now: it is shown only once and cannot be retrieved later.
          </FormMessage>
          <div className="inline">
            <code className="secret__value" data-testid="api-key-secret">
              {created.secret}
            </code>
            <CopyButton text={created.secret} />
            <Button onClick={() => setCreated(null)}>Done</Button>
          </div>
        </div>
      )}
      {keys.isError && <ErrorNotice title="Could not load API keys" error={keys.error} />}
      {keys.data && keys.data.results.length === 0 && <p className="muted">No API keys.</p>}
      {keys.data && keys.data.results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.results.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td title={formatDateTime(key.last_used_at)}>{key.last_used_at ? formatRelative(key.last_used_at) : 'never'}</td>
                <td>
                  <StatusPill tone={key.status === 'active' ? 'success' : 'neutral'}>{key.status}</StatusPill>
                </td>
                <td>
                  {key.status === 'active' && (
                    <Button
                      onClick={() => {
                        if (window.confirm(`Revoke the key "${key.name}"? Clients using it stop working.`)) revoke.mutate(key.id);
                      }}
                    >
                      Revoke <span className="visually-hidden">{key.name}</span>
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
