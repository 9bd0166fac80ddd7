import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createVariable, deleteVariable, fetchVariables, updateVariable } from '../../api/workspaceConfig';
import type { Variable } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { formatDateTime } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';

/** Values are JSON; plain text that is not JSON is stored as a string. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export default function VariablesPage() {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const variables = useQuery({ queryKey: ['variables', ref], queryFn: () => fetchVariables(ref) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['variables', ref] });
  const create = useMutation({
    mutationFn: () => createVariable(ref, { name: name.trim(), value: parseValue(value) }),
    onSuccess: async () => {
      setName('');
      setValue('');
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => deleteVariable(ref, id), onSuccess: refresh });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <PageHeader title="Variables">Named JSON values your flows read with the SDK.</PageHeader>
      <Card title="New variable">
        <form className="form form--inline" onSubmit={submit} aria-label="New variable">
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
          <Field label="Value (JSON or text)" value={value} onChange={(e) => setValue(e.target.value)} required />
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Add variable
          </Button>
        </form>
        {create.isError && <ErrorNotice title="Could not add the variable" error={create.error} />}
      </Card>
      {variables.isPending && <Spinner label="Loading variables…" />}
      {variables.isError && <ErrorNotice title="Could not load variables" error={variables.error} />}
      {remove.isError && <ErrorNotice title="Could not delete the variable" error={remove.error} />}
      {variables.data && variables.data.results.length === 0 && <p className="muted">No variables yet.</p>}
      {variables.data && variables.data.results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Variables</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {variables.data.results.map((variable) => (
              <VariableRow key={variable.id} variable={variable} onDelete={() => remove.mutate(variable.id)} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function VariableRow({ variable, onDelete }: { variable: Variable; onDelete: () => void }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(() => JSON.stringify(variable.value));
  const save = useMutation({
    mutationFn: () => updateVariable(ref, variable.id, parseValue(text)),
    onSuccess: async () => {
      setEditing(false);
      await queryClient.invalidateQueries({ queryKey: ['variables', ref] });
    },
  });
  return (
    <tr>
      <td>
        <code>{variable.name}</code>
      </td>
      <td>
        {editing ? (
          <input
            className="field__input"
            aria-label={`Value of ${variable.name}`}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        ) : (
          <code>{JSON.stringify(variable.value)}</code>
        )}
        {save.isError && <FormMessage tone="error">{save.error.message}</FormMessage>}
      </td>
      <td>{formatDateTime(variable.updated_at)}</td>
      <td className="inline">
        {editing ? (
          <Button onClick={() => save.mutate()} disabled={save.isPending}>
            Save
          </Button>
        ) : (
          <Button onClick={() => setEditing(true)}>
            Edit <span className="visually-hidden">{variable.name}</span>
          </Button>
        )}
        <Button
          onClick={() => {
            if (window.confirm(`Delete the variable ${variable.name}?`)) onDelete();
          }}
        >
          Delete <span className="visually-hidden">{variable.name}</span>
        </Button>
      </td>
    </tr>
  );
}
