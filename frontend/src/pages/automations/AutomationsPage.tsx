import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { fetchAutomations, pauseAutomation, resumeAutomation, type Automation } from '../../api/automations';
import { Button, ButtonLink } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatusPill } from '../../components/StatusPill';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { triggerSummary } from './automationForm';

/** The workspace's automations: what triggers each, what it does, and pause/resume. */
export default function AutomationsPage() {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const automations = useQuery({ queryKey: ['automations', ref], queryFn: () => fetchAutomations(ref) });
  const rows = automations.data?.results ?? [];

  return (
    <>
      <PageHeader title="Automations">
        Triggers that watch the workspace&apos;s events, and the actions they take when they fire.
      </PageHeader>
      <Card title="Your automations" aside={<ButtonLink to={link('automations/new')} variant="primary">New automation</ButtonLink>}>
        {automations.isPending && <Spinner label="Loading automations…" />}
        {automations.isError && <ErrorNotice title="Could not load automations" error={automations.error} />}
        {automations.data && rows.length === 0 && (
          <EmptyState title="No automations yet">
            <p>Create one to get notified when a run fails, or to start a deployment when an event arrives.</p>
          </EmptyState>
        )}
        {rows.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Automations</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Actions</th>
                <th scope="col">
                  <span className="visually-hidden">Pause or resume</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((automation) => (
                <tr key={automation.id}>
                  <td>
                    <Link to={link(`automations/${automation.id}`)}>{automation.name}</Link>
                  </td>
                  <td>
                    <StatusPill tone={automation.enabled ? 'success' : 'neutral'}>
                      {automation.enabled ? 'Enabled' : 'Paused'}
                    </StatusPill>
                  </td>
                  <td>{triggerSummary(automation.trigger)}</td>
                  <td>{automation.actions.map((action) => action.type).join(', ')}</td>
                  <td>
                    <ToggleButton automation={automation} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

export function ToggleButton({ automation }: { automation: Automation }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => (automation.enabled ? pauseAutomation(ref, automation.id) : resumeAutomation(ref, automation.id)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['automations', ref] }),
  });
  const verb = automation.enabled ? 'Pause' : 'Resume';
  return (
    <>
      <Button disabled={toggle.isPending} onClick={() => toggle.mutate()}>
        {verb} <span className="visually-hidden">{automation.name}</span>
      </Button>
      {toggle.isError && <ErrorNotice title={`Could not ${verb.toLowerCase()} the automation`} error={toggle.error} />}
    </>
  );
}
