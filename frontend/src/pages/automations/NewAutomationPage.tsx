import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { createAutomation, type AutomationCreateRequest } from '../../api/automations';
import { Card } from '../../components/Card';
import { PageHeader } from '../../components/PageHeader';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { GuidedAutomationForm } from './GuidedAutomationForm';
import { EMPTY_FORM } from './automationForm';

export default function NewAutomationPage() {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (request: AutomationCreateRequest) => createAutomation(ref, request),
    onSuccess: async (automation) => {
      await queryClient.invalidateQueries({ queryKey: ['automations', ref] });
      await navigate(link(`automations/${automation.id}`));
    },
  });
  return (
    <>
      <PageHeader title="New automation">
        Pick the events to react to and what to do. Subjects, bodies and parameters are templates: see the{' '}
        <code>flow_run</code>, <code>deployment</code> and <code>event</code> fields in the automations docs.
      </PageHeader>
      <Card title="Create automation">
        <GuidedAutomationForm
          initial={EMPTY_FORM}
          submitLabel="Create automation"
          failureTitle="The automation was not created"
          onSubmit={(request) => create.mutate(request)}
          pending={create.isPending}
          error={create.error}
        />
      </Card>
    </>
  );
}
