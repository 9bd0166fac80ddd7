import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createWorkPool, type NewWorkPool } from '../../api/pools';
import type { WorkPool, WorkPoolType } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { useWorkspaceRef } from '../../workspace/workspace';
import { Select } from '../automations/controls';
import { buildPoolRequest, DOCS_BASE, EMPTY_POOL_FORM, POOL_TYPES, poolTypeInfo, type PoolFormErrors, type PoolFormValues } from './poolTypes';

/** Create a work pool of any type; the hint under the type says what it runs on and where its doc is. */
export function NewPoolForm({ onCreated, onCancel }: { onCreated: (pool: WorkPool) => void; onCancel: () => void }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<PoolFormValues>(EMPTY_POOL_FORM);
  const [errors, setErrors] = useState<PoolFormErrors>({});
  const create = useMutation({
    mutationFn: (request: NewWorkPool) => createWorkPool(ref, request),
    onSuccess: async (pool) => {
      await queryClient.invalidateQueries({ queryKey: ['pools', ref] });
      onCreated(pool);
    },
  });
  const info = poolTypeInfo(values.type);

  function set<K extends keyof PoolFormValues>(key: K, value: PoolFormValues[K]) {
    setValues((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildPoolRequest(values);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    create.mutate(built.request);
  }

  return (
    <Card title="New work pool">
      <form className="form" onSubmit={submit} aria-label="Create work pool" noValidate>
        <Field label="Pool name" value={values.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
        <Select label="Type" value={values.type} onChange={(value) => set('type', value as WorkPoolType)}>
          {POOL_TYPES.map((item) => (
            <option key={item.type} value={item.type}>
              {item.label}
            </option>
          ))}
        </Select>
        {info && (
          <p className="field__hint" aria-live="polite">
            {info.hint} See{' '}
            <a href={`${DOCS_BASE}${info.doc}`} target="_blank" rel="noreferrer">
              docs/{info.doc}
            </a>
            .
          </p>
        )}
        <Field label="Description" value={values.description} onChange={(e) => set('description', e.target.value)} />
        <Field
          label="Concurrency limit"
          type="number"
          min={0}
          value={values.concurrencyLimit}
          onChange={(e) => set('concurrencyLimit', e.target.value)}
          error={errors.concurrencyLimit}
          hint="Most runs of this pool in flight at once; empty for no limit."
        />
        {create.isError && <ErrorNotice title="The pool was not created" error={create.error} />}
        <div className="inline">
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Create pool
          </Button>
          <Button onClick={onCancel}>Cancel</Button>
        </div>
      </form>
    </Card>
  );
}
