import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { fetchAutomation, updateAutomation, type Automation, type AutomationCreateRequest } from '../../api/automations';
import { ApiError } from '../../api/client';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { GuidedAutomationForm } from './GuidedAutomationForm';
import { buildJsonAutomationRequest, formFromAutomation, type JsonAutomationValues, type JsonFormErrors } from './automationForm';
import { TextArea } from './controls';

const SAVE_LABEL = 'Save automation';
const FAILURE_TITLE = 'The automation was not saved';

/** Edit an automation: in the guided form when it fits, otherwise as its trigger and actions JSON. */
export default function EditAutomationPage() {
  const { automationId = '' } = useParams();
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const automation = useQuery({
    queryKey: ['automations', ref, automationId],
    queryFn: () => fetchAutomation(ref, automationId),
  });
  const save = useMutation({
    mutationFn: (request: AutomationCreateRequest) => updateAutomation(ref, automationId, request),
    onSuccess: async (saved) => {
      queryClient.setQueryData(['automations', ref, automationId], saved);
      await queryClient.invalidateQueries({ queryKey: ['automations', ref] });
      await navigate(link(`automations/${saved.id}`));
    },
  });

  if (automation.isPending) return <Spinner label="Loading the automation…" />;
  if (automation.isError) return <ErrorNotice title="Could not load this automation" error={automation.error} />;
  const data = automation.data;
  const guided = formFromAutomation(data);

  return (
    <>
      <PageHeader title={`Edit ${data.name}`}>
        <Link to={link(`automations/${data.id}`)}>Back to the automation</Link>
      </PageHeader>
      {data.sla_id ? (
        <Card title="Owned by an SLA">
          <p>This automation is kept in step with an SLA on a deployment: edit or delete the SLA there instead.</p>
        </Card>
      ) : (
        <Card title={guided ? 'Edit automation' : 'Edit automation as JSON'}>
          {guided ? (
            <GuidedAutomationForm
              initial={guided}
              submitLabel={SAVE_LABEL}
              failureTitle={FAILURE_TITLE}
              onSubmit={(request) => save.mutate(request)}
              pending={save.isPending}
              error={save.error}
            />
          ) : (
            <JsonAutomationForm automation={data} onSubmit={(request) => save.mutate(request)} pending={save.isPending} error={save.error} />
          )}
        </Card>
      )}
    </>
  );
}

function JsonAutomationForm({
  automation,
  onSubmit,
  pending,
  error,
}: {
  automation: Automation;
  onSubmit: (request: AutomationCreateRequest) => void;
  pending: boolean;
  error: Error | null;
}) {
  const [values, setValues] = useState<JsonAutomationValues>({
    name: automation.name,
    description: automation.description,
    trigger: JSON.stringify(automation.trigger, null, 2),
    actions: JSON.stringify(automation.actions, null, 2),
  });
  const [errors, setErrors] = useState<JsonFormErrors>({});

  function set(key: keyof JsonAutomationValues, value: string) {
    setValues((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildJsonAutomationRequest(values);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    onSubmit(built.request);
  }

  return (
    <form className="form" onSubmit={submit} aria-label={SAVE_LABEL} noValidate>
      <p className="muted">
        This trigger or these actions go beyond what the guided form shows; docs/automations.md describes every field.
      </p>
      <Field label="Name" value={values.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
      <Field label="Description" value={values.description} onChange={(e) => set('description', e.target.value)} />
      <TextArea label="Trigger (JSON)" value={values.trigger} onChange={(value) => set('trigger', value)} error={errors.trigger} />
      <TextArea label="Actions (JSON)" value={values.actions} onChange={(value) => set('actions', value)} error={errors.actions} />
      {Object.keys(errors).length > 0 && <FormMessage tone="error">Fix the highlighted fields.</FormMessage>}
      {error && <ErrorNotice title={FAILURE_TITLE} error={error} />}
      {error instanceof ApiError && Object.keys(error.details).length > 0 && (
        <pre className="code-block" aria-label="Error details">
          {JSON.stringify(error.details, null, 2)}
        </pre>
      )}
      <div className="inline">
        <Button type="submit" variant="primary" disabled={pending}>
          {SAVE_LABEL}
        </Button>
      </div>
    </form>
  );
}
