import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  createConcurrencyLimit,
  deleteConcurrencyLimit,
  fetchConcurrencyLimits,
  updateConcurrencyLimit,
} from '../../api/workspaceConfig';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { useWorkspaceRef } from '../../workspace/workspace';

export default function ConcurrencyPage() {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [limit, setLimit] = useState('1');
  const limits = useQuery({ queryKey: ['concurrency', ref], queryFn: () => fetchConcurrencyLimits(ref), refetchInterval: 10_000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['concurrency', ref] });
  const create = useMutation({
    mutationFn: () => createConcurrencyLimit(ref, { name: name.trim(), limit: Number(limit) }),
    onSuccess: async () => {
      setName('');
      await refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) => updateConcurrencyLimit(ref, id, { active }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => deleteConcurrencyLimit(ref, id), onSuccess: refresh });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <PageHeader title="Concurrency limits">
        Global limits that flows take slots from with <code>concurrency(&quot;name&quot;)</code>.
      </PageHeader>
      <Card title="New limit">
        <form className="form form--inline" onSubmit={submit} aria-label="New concurrency limit">
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
          <Field label="Slots" type="number" min={0} value={limit} onChange={(e) => setLimit(e.target.value)} required />
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Add limit
          </Button>
        </form>
        {create.isError && <ErrorNotice title="Could not add the limit" error={create.error} />}
      </Card>
      {limits.isPending && <Spinner label="Loading limits…" />}
      {limits.isError && <ErrorNotice title="Could not load limits" error={limits.error} />}
      {(toggle.error ?? remove.error) && <ErrorNotice title="The change was refused" error={toggle.error ?? remove.error} />}
      {limits.data && limits.data.results.length === 0 && <p className="muted">No limits yet.</p>}
      {limits.data && limits.data.results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Concurrency limits</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">In use</th>
              <th scope="col">Active</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {limits.data.results.map((item) => (
              <tr key={item.id}>
                <td>
                  <code>{item.name}</code>
                </td>
                <td>
                  {item.active_slots} / {item.limit}
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${item.name} active`}
                    checked={item.active !== false}
                    onChange={() => toggle.mutate({ id: item.id, active: item.active === false })}
                  />
                </td>
                <td>
                  <Button
                    onClick={() => {
                      if (window.confirm(`Delete the limit ${item.name}?`)) remove.mutate(item.id);
                    }}
                  >
                    Delete <span className="visually-hidden">{item.name}</span>
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
