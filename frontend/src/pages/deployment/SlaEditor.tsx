import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { fetchBlocks } from '../../api/blocks';
import { ApiError } from '../../api/client';
import { fetchDeployments } from '../../api/deployments';
import type { SlaKind, SlaWriteRequest } from '../../api/types';
import { Button } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { useWorkspaceRef } from '../../workspace/workspace';
import { Select, TextArea } from '../automations/controls';
import { buildSlaRequest, type DurationUnit, type SlaFormErrors, type SlaFormValues } from './slaForm';

/** Block types a send-notification action can use (automations/actions.py NOTIFICATION_BLOCK_TYPES). */
const NOTIFICATION_BLOCK_TYPES = new Set(['slack-webhook', 'webhook', 'smtp']);

const KIND_LABELS: Record<SlaKind, string> = {
  start_within: 'Runs start on time',
  complete_within: 'Runs finish in time',
  freshness: 'Fresh data every day',
};

const KIND_HINTS: Record<SlaKind, string> = {
  start_within: 'Fires for each run not Running this long after its scheduled time.',
  complete_within: 'Fires for each run not finished (Completed, Failed, Crashed or Cancelled) this long after it started.',
  freshness: 'Fires each day no run of this deployment has COMPLETED in the 24 hours before this time.',
};

interface SlaEditorProps {
  deploymentId: string;
  initial: SlaFormValues;
  submitLabel: string;
  onSubmit: (request: SlaWriteRequest) => void;
  onCancel: () => void;
  pending: boolean;
  error: Error | null;
}

/** The guided SLA form: one of three kinds, then a notification and/or a run of a deployment. */
export function SlaEditor({ deploymentId, initial, submitLabel, onSubmit, onCancel, pending, error }: SlaEditorProps) {
  const ref = useWorkspaceRef();
  const blocks = useQuery({ queryKey: ['blocks', ref], queryFn: () => fetchBlocks(ref) });
  const deployments = useQuery({ queryKey: ['deployments', ref, 'picker'], queryFn: () => fetchDeployments(ref) });
  const notifiers = (blocks.data?.results ?? []).filter((block) => NOTIFICATION_BLOCK_TYPES.has(block.block_type.slug));
  const [values, setValues] = useState<SlaFormValues>(initial);
  const [errors, setErrors] = useState<SlaFormErrors>({});
  const sendsEmail = notifiers.find((block) => block.id === values.blockId)?.block_type.slug === 'smtp';

  function set<K extends keyof SlaFormValues>(key: K, value: SlaFormValues[K]) {
    setValues((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildSlaRequest(deploymentId, values, values.notify && sendsEmail);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    onSubmit(built.request);
  }

  return (
    <form className="form" onSubmit={submit} aria-label={submitLabel} noValidate>
      <Field label="SLA name" value={values.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
      <Select label="Kind" value={values.kind} onChange={(value) => set('kind', value as SlaKind)} hint={KIND_HINTS[values.kind]}>
        {Object.entries(KIND_LABELS).map(([kind, label]) => (
          <option key={kind} value={kind}>
            {label}
          </option>
        ))}
      </Select>
      {values.kind === 'freshness' ? (
        <div className="filters__row">
          <Field
            label="Completed by (HH:MM)"
            type="time"
            value={values.timeOfDay}
            onChange={(e) => set('timeOfDay', e.target.value)}
            error={errors.timeOfDay}
          />
          <Field
            label="Time zone"
            value={values.timezone}
            onChange={(e) => set('timezone', e.target.value)}
            error={errors.timezone}
            hint="An IANA name, e.g. Europe/Paris or UTC."
          />
        </div>
      ) : (
        <div className="filters__row">
          <Field
            label={values.kind === 'start_within' ? 'Must start within' : 'Must complete within'}
            type="number"
            min={1}
            step="any"
            value={values.amount}
            onChange={(e) => set('amount', e.target.value)}
            error={errors.amount}
            hint={values.kind === 'start_within' ? 'Of the scheduled time.' : 'Of starting to run.'}
          />
          <Select label="Unit" value={values.unit} onChange={(value) => set('unit', value as DurationUnit)}>
            <option value="seconds">seconds</option>
            <option value="minutes">minutes</option>
            <option value="hours">hours</option>
            <option value="days">days</option>
          </Select>
        </div>
      )}
      <fieldset className="form form--boxed">
        <legend>When the SLA is missed</legend>
        <label className="checkbox">
          <input type="checkbox" checked={values.notify} onChange={(e) => set('notify', e.target.checked)} />
          Send a notification
        </label>
        {values.notify && (
          <>
            <Select
              label="Notification block"
              value={values.blockId}
              onChange={(value) => set('blockId', value)}
              error={errors.blockId}
              hint={
                blocks.data && notifiers.length === 0
                  ? 'No Slack, webhook or SMTP block in this workspace yet: create one under Blocks.'
                  : 'A Slack webhook, webhook or SMTP block.'
              }
            >
              <option value="">Pick a block…</option>
              {notifiers.map((block) => (
                <option key={block.id} value={block.id}>
                  {block.name} ({block.block_type.name})
                </option>
              ))}
            </Select>
            {sendsEmail && (
              <Field
                label="To"
                value={values.to}
                onChange={(e) => set('to', e.target.value)}
                error={errors.to}
                hint="Email addresses, separated by commas."
              />
            )}
            <Field label="Subject" value={values.subject} onChange={(e) => set('subject', e.target.value)} />
            <TextArea label="Body" value={values.body} onChange={(value) => set('body', value)} />
          </>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={values.runDeployment} onChange={(e) => set('runDeployment', e.target.checked)} />
          Run a deployment
        </label>
        {values.runDeployment && (
          <>
            <Select
              label="Deployment to run"
              value={values.runDeploymentId}
              onChange={(value) => set('runDeploymentId', value)}
              error={errors.runDeploymentId}
            >
              <option value="">Pick a deployment…</option>
              {(deployments.data?.results ?? []).map((deployment) => (
                <option key={deployment.id} value={deployment.id}>
                  {deployment.flow_name}/{deployment.name}
                </option>
              ))}
            </Select>
            <TextArea
              label="Parameters (JSON)"
              value={values.parameters}
              onChange={(value) => set('parameters', value)}
              error={errors.parameters}
            />
          </>
        )}
        {values.otherActions.length > 0 && (
          <p className="muted">
            Also kept as they are: {values.otherActions.map((action) => action.type).join(', ')}.
          </p>
        )}
        {errors.actions && <p className="field__error">{errors.actions}</p>}
      </fieldset>
      <label className="checkbox">
        <input type="checkbox" checked={values.enabled} onChange={(e) => set('enabled', e.target.checked)} />
        Enabled
      </label>
      {blocks.isError && <ErrorNotice title="Could not load blocks" error={blocks.error} />}
      {Object.keys(errors).length > 0 && <FormMessage tone="error">Fix the highlighted fields.</FormMessage>}
      {error && <ErrorNotice title="The SLA was not saved" error={error} />}
      {error instanceof ApiError && Object.keys(error.details).length > 0 && (
        <pre className="code-block" aria-label="Error details">
          {JSON.stringify(error.details, null, 2)}
        </pre>
      )}
      <div className="inline">
        <Button type="submit" variant="primary" disabled={pending}>
          {submitLabel}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
