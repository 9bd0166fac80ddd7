import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { deleteAutomation, fetchAutomation, fetchFirings, type ActionRun, type Automation, type Firing } from '../../api/automations';
import { Button, ButtonLink } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatusPill, type Tone } from '../../components/StatusPill';
import { formatDateTime } from '../../format/time';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { ToggleButton } from './AutomationsPage';
import { triggerSummary } from './automationForm';

// Firings happen in the background; a slow poll keeps the history current without the live socket.
const FIRINGS_REFRESH_MS = 10_000;

const STATUS_TONES: Record<ActionRun['status'], Tone> = { pending: 'warning', succeeded: 'success', failed: 'danger' };

/** One automation: its trigger and actions as stored, and its recent firings. */
export default function AutomationPage() {
  const { automationId = '' } = useParams();
  const ref = useWorkspaceRef();
  const automation = useQuery({
    queryKey: ['automations', ref, automationId],
    queryFn: () => fetchAutomation(ref, automationId),
  });
  const firings = useQuery({
    queryKey: ['automation-firings', ref, automationId],
    queryFn: () => fetchFirings(ref, automationId),
    refetchInterval: FIRINGS_REFRESH_MS,
  });

  if (automation.isPending) return <Spinner label="Loading the automation…" />;
  if (automation.isError) return <ErrorNotice title="Could not load this automation" error={automation.error} />;
  const { data } = automation;

  return (
    <>
      <PageHeader title={data.name}>{data.description || triggerSummary(data.trigger)}</PageHeader>
      <Card
        title="Definition"
        aside={
          <div className="inline">
            <StatusPill tone={data.enabled ? 'success' : 'neutral'}>{data.enabled ? 'Enabled' : 'Paused'}</StatusPill>
            <ToggleButton automation={data} />
          </div>
        }
      >
        <p>{triggerSummary(data.trigger)}</p>
        {data.sla_id ? (
          <p className="muted">Owned by an SLA: change the SLA on its deployment to change it.</p>
        ) : (
          <EditAndDelete automation={data} />
        )}
        <h3>Trigger</h3>
        <pre className="code-block" aria-label="Trigger">
          {JSON.stringify(data.trigger, null, 2)}
        </pre>
        <h3>Actions</h3>
        <pre className="code-block" aria-label="Actions">
          {JSON.stringify(data.actions, null, 2)}
        </pre>
      </Card>
      <Card title="Recent firings">
        {firings.isPending && <Spinner label="Loading firings…" />}
        {firings.isError && <ErrorNotice title="Could not load firings" error={firings.error} />}
        {firings.data && firings.data.results.length === 0 && (
          <EmptyState title="Not fired yet">
            <p>Each time the trigger fires, the firing and what its actions did show up here.</p>
          </EmptyState>
        )}
        {firings.data && firings.data.results.length > 0 && (
          <ol className="plain-list" aria-label="Firings">
            {firings.data.results.map((firing) => (
              <FiringItem key={firing.id} firing={firing} />
            ))}
          </ol>
        )}
      </Card>
    </>
  );
}

function FiringItem({ firing }: { firing: Firing }) {
  return (
    <li className="firing">
      <p>
        <strong>{formatDateTime(firing.created_at)}</strong> · {firing.reason}
        {firing.triggering_event?.event && firing.triggering_event.event !== firing.reason && (
          <span className="muted"> · event {firing.triggering_event.event}</span>
        )}
      </p>
      <table className="table">
        <caption className="visually-hidden">Actions of the firing at {formatDateTime(firing.created_at)}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Action</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Deliveries</th>
          </tr>
        </thead>
        <tbody>
          {firing.action_runs.map((run) => (
            <tr key={run.id}>
              <td>{run.index + 1}</td>
              <td>{run.type}</td>
              <td>
                <StatusPill tone={STATUS_TONES[run.status]}>{run.status}</StatusPill>
                {run.error && <div className="field__error">{run.error}</div>}
                {run.status === 'pending' && run.next_attempt_at && (
                  <div className="muted">next attempt {formatDateTime(run.next_attempt_at)}</div>
                )}
              </td>
              <td>{run.attempts}</td>
              <td>
                {run.deliveries.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul className="plain-list">
                    {run.deliveries.map((delivery) => (
                      <li key={delivery.attempt}>
                        #{delivery.attempt} {delivery.outcome} · {delivery.target}
                        {delivery.status_code !== null && ` · HTTP ${String(delivery.status_code)}`}
                        {delivery.duration_ms !== null && ` · ${String(delivery.duration_ms)} ms`}
                        {delivery.error && <span className="field__error"> · {delivery.error}</span>}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </li>
  );
}

/** Edit link, and delete behind a second, explicit confirmation. */
function EditAndDelete({ automation }: { automation: Automation }) {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => deleteAutomation(ref, automation.id),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ['automations', ref, automation.id] });
      await queryClient.invalidateQueries({ queryKey: ['automations', ref] });
      await navigate(link('automations'));
    },
  });
  return (
    <div className="toolbar">
      <ButtonLink to={link(`automations/${automation.id}/edit`)}>Edit</ButtonLink>
      {confirming ? (
        <span className="inline" role="group" aria-label="Confirm deletion">
          <span>Delete {automation.name} and its firing history?</span>
          <Button variant="primary" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete automation
          </Button>
          <Button onClick={() => setConfirming(false)}>Keep it</Button>
        </span>
      ) : (
        <Button onClick={() => setConfirming(true)}>Delete…</Button>
      )}
      {remove.isError && <ErrorNotice title="Could not delete the automation" error={remove.error} />}
    </div>
  );
}
