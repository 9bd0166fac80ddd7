import { useMutation } from '@tanstack/react-query';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../../api/client';
import { createFlowRun } from '../../api/runs';
import type { Deployment } from '../../api/types';
import { Button } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormMessage } from '../../components/Field';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { buildParameters, fieldsFromSchema, initialValues, type FormValues, type ParameterField } from './parameterForm';

/** "Run" for a deployment: a form generated from its parameter schema, posting a flow run. */
export function RunForm({ deployment }: { deployment: Deployment }) {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const navigate = useNavigate();
  const fields = useMemo(
    () => fieldsFromSchema(deployment.parameter_schema, deployment.parameters),
    [deployment.parameter_schema, deployment.parameters],
  );
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});

  const run = useMutation({
    mutationFn: (parameters: Record<string, unknown>) =>
      createFlowRun(ref, { deployment_id: deployment.id, parameters }),
    onSuccess: (created) => navigate(link(`flow-runs/${created.id}`)),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const result = buildParameters(fields, values);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    run.mutate(result.parameters);
  }

  const serverPaths =
    run.error instanceof ApiError && Array.isArray(run.error.details['paths'])
      ? (run.error.details['paths'] as unknown[]).map(String)
      : [];

  return (
    <form className="form" onSubmit={submit} aria-label="Run deployment" noValidate>
      {fields.length === 0 && <p className="muted">This deployment takes no parameters.</p>}
      {fields.map((field) => (
        <ParameterInput
          key={field.name}
          field={field}
          value={values[field.name] ?? ''}
          error={errors[field.name]}
          onChange={(value) => setValues((current) => ({ ...current, [field.name]: value }))}
        />
      ))}
      {Object.keys(errors).length > 0 && <FormMessage tone="error">Fix the highlighted parameters.</FormMessage>}
      {run.isError && <ErrorNotice title="The run was not created" error={run.error} />}
      {serverPaths.length > 0 && <p className="field__error">Invalid: {serverPaths.join(', ')}</p>}
      <Button type="submit" variant="primary" disabled={run.isPending}>
        Run
      </Button>
    </form>
  );
}

interface ParameterInputProps {
  field: ParameterField;
  /** Typed into a password input (block secrets): never shown while typed. */
  secret?: boolean;
  hint?: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}

/** One labelled input for a schema field (also used by the blocks form). */
export function ParameterInput({ field, value, error, onChange, secret = false, hint = '' }: ParameterInputProps) {
  const id = useId();
  const help = [field.description, hint].filter(Boolean).join(' ');
  const describedBy = [help ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: field.name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': field.required || undefined,
  };
  let control;
  switch (field.kind) {
    case 'boolean':
      control = (
        <input {...common} type="checkbox" checked={value === 'true'} onChange={(e) => onChange(String(e.target.checked))} />
      );
      break;
    case 'enum':
      control = (
        <select {...common} className="field__input" value={value} onChange={(e) => onChange(e.target.value)}>
          {!field.required && <option value="">—</option>}
          {field.required && value === '' && <option value="">Choose…</option>}
          {field.options.map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
      break;
    case 'json':
      control = (
        <textarea {...common} className="field__input code" rows={4} value={value} onChange={(e) => onChange(e.target.value)} />
      );
      break;
    default:
      control = (
        <input
          {...common}
          className="field__input"
          type={field.kind === 'string' ? (secret ? 'password' : 'text') : 'number'}
          autoComplete={secret ? 'new-password' : undefined}
          step={field.kind === 'integer' ? 1 : 'any'}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <div className={field.kind === 'boolean' ? 'field field--inline' : 'field'}>
      <label htmlFor={id} className="field__label">
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
        {field.kind === 'json' && <span className="muted"> (JSON)</span>}
      </label>
      {control}
      {help && (
        <p id={`${id}-hint`} className="field__hint">
          {help}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field__error">
          {error}
        </p>
      )}
    </div>
  );
}
