import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AutomationCreateRequest } from '../../api/automations';
import { fetchBlocks } from '../../api/blocks';
import { ApiError } from '../../api/client';
import { fetchDeployments } from '../../api/deployments';
import type { Deployment } from '../../api/types';
import { Button } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { useWorkspaceRef } from '../../workspace/workspace';
import { buildAutomationRequest, type ActionKind, type AutomationFormValues, type FormErrors } from './automationForm';
import { Select, TextArea } from './controls';

/** Block types a send-notification action can use (actions.py NOTIFICATION_BLOCK_TYPES). */
const NOTIFICATION_BLOCK_TYPES = new Set(['slack-webhook', 'webhook', 'smtp']);

interface GuidedAutomationFormProps {
  initial: AutomationFormValues;
  /** The form's accessible name and its submit button's text. */
  submitLabel: string;
  /** Shown when the request failed, e.g. "The automation was not created". */
  failureTitle: string;
  onSubmit: (request: AutomationCreateRequest) => void;
  pending: boolean;
  error: Error | null;
}

/** The guided form for the common case: on these events (about a deployment), take one action. */
export function GuidedAutomationForm({ initial, submitLabel, failureTitle, onSubmit, pending, error }: GuidedAutomationFormProps) {
  const ref = useWorkspaceRef();
  const deployments = useQuery({ queryKey: ['deployments', ref, 'picker'], queryFn: () => fetchDeployments(ref) });
  const blocks = useQuery({ queryKey: ['blocks', ref], queryFn: () => fetchBlocks(ref) });
  const notifiers = (blocks.data?.results ?? []).filter((block) => NOTIFICATION_BLOCK_TYPES.has(block.block_type.slug));
  const [values, setValues] = useState<AutomationFormValues>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const chosenBlock = notifiers.find((block) => block.id === values.blockId);
  const sendsEmail = chosenBlock?.block_type.slug === 'smtp';

  function set<K extends keyof AutomationFormValues>(key: K, value: AutomationFormValues[K]) {
    setValues((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildAutomationRequest(values, values.action === 'send-notification' && sendsEmail);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    onSubmit(built.request);
  }

  const deploymentOptions = deployments.data?.results ?? [];
  return (
    <form className="form" onSubmit={submit} aria-label={submitLabel} noValidate>
      <Field label="Name" value={values.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
      <fieldset className="form form--boxed">
        <legend>Trigger</legend>
        <Field
          label="Events"
          value={values.events}
          onChange={(e) => set('events', e.target.value)}
          error={errors.events}
          hint="Event names or patterns with *, separated by commas, e.g. tether.flow-run.Failed, tether.flow-run.Crashed."
        />
        <Select
          label="About deployment"
          value={values.deploymentId}
          onChange={(value) => set('deploymentId', value)}
          hint="Only events about runs of this deployment."
        >
          <option value="">Any deployment</option>
          <DeploymentOptions deployments={deploymentOptions} />
        </Select>
      </fieldset>
      <fieldset className="form form--boxed">
        <legend>Action</legend>
        <Select label="Action" value={values.action} onChange={(value) => set('action', value as ActionKind)}>
          <option value="send-notification">Send a notification</option>
          <option value="run-deployment">Run a deployment</option>
        </Select>
        {values.action === 'send-notification' ? (
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
        ) : (
          <>
            <Select
              label="Deployment to run"
              value={values.runDeploymentId}
              onChange={(value) => set('runDeploymentId', value)}
            >
              <option value="">The deployment of the triggering run</option>
              <DeploymentOptions deployments={deploymentOptions} />
            </Select>
            <TextArea
              label="Parameters (JSON)"
              value={values.parameters}
              onChange={(value) => set('parameters', value)}
              error={errors.parameters}
              hint='A JSON object; values may be templates, e.g. {"who": "{{ flow_run.name }}"}.'
            />
          </>
        )}
      </fieldset>
      {deployments.isError && <ErrorNotice title="Could not load deployments" error={deployments.error} />}
      {blocks.isError && <ErrorNotice title="Could not load blocks" error={blocks.error} />}
      {Object.keys(errors).length > 0 && <FormMessage tone="error">Fix the highlighted fields.</FormMessage>}
      {error && <ErrorNotice title={failureTitle} error={error} />}
      {error instanceof ApiError && Object.keys(error.details).length > 0 && (
        <pre className="code-block" aria-label="Error details">
          {JSON.stringify(error.details, null, 2)}
        </pre>
      )}
      <div className="inline">
        <Button type="submit" variant="primary" disabled={pending}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}

function DeploymentOptions({ deployments }: { deployments: readonly Deployment[] }) {
  return deployments.map((deployment) => (
    <option key={deployment.id} value={deployment.id}>
      {deployment.flow_name}/{deployment.name}
    </option>
  ));
}
