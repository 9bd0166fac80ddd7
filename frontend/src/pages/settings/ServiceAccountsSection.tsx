import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createServiceAccount, fetchServiceAccounts } from '../../api/org';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { useWorkspaceRef } from '../../workspace/workspace';

export function ServiceAccountsSection() {
  const { org } = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const accounts = useQuery({ queryKey: ['service-accounts', org], queryFn: () => fetchServiceAccounts(org) });
  const create = useMutation({
    mutationFn: () => createServiceAccount(org, name.trim(), description.trim()),
    onSuccess: async () => {
      setName('');
      setDescription('');
      await queryClient.invalidateQueries({ queryKey: ['service-accounts', org] });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <Card title="Service accounts">
      <form className="form form--inline" onSubmit={submit} aria-label="Create service account">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
        <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <Button type="submit" disabled={create.isPending}>
          Create service account
        </Button>
      </form>
      {create.isError && <ErrorNotice title="Could not create the service account" error={create.error} />}
      {accounts.isError && <ErrorNotice title="Could not load service accounts" error={accounts.error} />}
      {accounts.data && accounts.data.results.length === 0 && <p className="muted">No service accounts.</p>}
      {accounts.data && accounts.data.results.length > 0 && (
        <ul className="plain-list" aria-label="Service accounts">
          {accounts.data.results.map((account) => (
            <li key={account.id}>
              <strong>{account.name}</strong>
              {account.description && <span className="muted"> · {account.description}</span>}
              {!account.is_active && <span className="muted"> · inactive</span>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
