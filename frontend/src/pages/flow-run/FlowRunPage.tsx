import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import {
  cancelFlowRun,
  fetchArtifacts,
  fetchFlowRun,
  fetchRunStates,
  fetchTaskRuns,
  retryFlowRun,
} from '../../api/runs';
import { TERMINAL_STATE_TYPES } from '../../api/types';
import { useLiveRun, usePollWhileOffline } from '../../live/LiveProvider';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatePill } from '../../components/StatePill';
import { formatDateTime, formatDuration } from '../../format/time';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { ArtifactView } from './ArtifactView';
import { LogsPanel } from './LogsPanel';

const LIVE_POLL_MS = 2000;

export default function FlowRunPage() {
  const { runId = '' } = useParams();
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const queryClient = useQueryClient();
  const pollOffline = usePollWhileOffline(LIVE_POLL_MS);

  const run = useQuery({
    queryKey: ['flow-run', ref, runId],
    queryFn: () => fetchFlowRun(ref, runId),
    refetchInterval: (query) =>
      query.state.data && TERMINAL_STATE_TYPES.has(query.state.data.state_type) ? false : pollOffline,
  });
  const live = Boolean(run.data && !TERMINAL_STATE_TYPES.has(run.data.state_type));
  // The live socket announces state changes and log lines; poll only while it is down.
  const poll = live ? pollOffline : false;
  useLiveRun(runId, live);
  const states = useQuery({
    queryKey: ['flow-run', ref, runId, 'states'],
    queryFn: () => fetchRunStates(ref, runId),
    refetchInterval: poll,
  });
  const tasks = useQuery({
    queryKey: ['flow-run', ref, runId, 'tasks'],
    queryFn: () => fetchTaskRuns(ref, runId),
    refetchInterval: poll,
  });
  const artifacts = useQuery({
    queryKey: ['flow-run', ref, runId, 'artifacts'],
    queryFn: () => fetchArtifacts(ref, runId),
    refetchInterval: poll,
  });

  const action = useMutation({
    mutationFn: (kind: 'cancel' | 'retry') => (kind === 'cancel' ? cancelFlowRun(ref, runId) : retryFlowRun(ref, runId)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['flow-run', ref, runId] }),
  });

  if (run.isPending) return <Spinner label="Loading the run…" />;
  if (run.isError) return <ErrorNotice title="Could not load this run" error={run.error} />;
  const data = run.data;

  return (
    <>
      <PageHeader title={data.name}>
        {data.flow_name}
        {data.deployment_id && (
          <>
            {' · '}
            <Link to={link(`deployments/${data.deployment_id}`)}>{data.deployment_name}</Link>
          </>
        )}
      </PageHeader>
      <div className="toolbar">
        <StatePill type={data.state_type} name={data.state_name} />
        <Button disabled={!live || action.isPending} onClick={() => action.mutate('cancel')}>
          Cancel run
        </Button>
        <Button disabled={live || action.isPending} onClick={() => action.mutate('retry')}>
          Retry run
        </Button>
      </div>
      {action.data && (
        <FormMessage tone="info">
          {action.data.status === 'ACCEPT' ? `Now ${action.data.state.name}.` : action.data.reason}
        </FormMessage>
      )}
      {action.isError && <ErrorNotice title="The action was refused" error={action.error} />}

      <div className="card-grid">
        <Card title="Details">
          <dl className="facts">
            <Fact label="Expected start">{formatDateTime(data.expected_start_time)}</Fact>
            <Fact label="Started">{formatDateTime(data.start_time)}</Fact>
            <Fact label="Ended">{formatDateTime(data.end_time)}</Fact>
            <Fact label="Run time">{formatDuration(data.total_run_time)}</Fact>
            <Fact label="Attempts">
              {data.run_count} of {data.max_retries + 1}
            </Fact>
          </dl>
        </Card>
        <Card title="Parameters">
          <pre className="code-block">{JSON.stringify(data.parameters ?? {}, null, 2)}</pre>
        </Card>
      </div>

      <Card title="State timeline">
        {states.isError && <ErrorNotice title="Could not load the states" error={states.error} />}
        {states.data && (
          <ol className="timeline" aria-label="State history">
            {states.data.map((state) => (
              <li key={state.id} className="timeline__item">
                <StatePill type={state.type} name={state.name} />
                <time dateTime={state.timestamp}>{formatDateTime(state.timestamp)}</time>
                {state.message && <span className="muted">{state.message}</span>}
              </li>
            ))}
          </ol>
        )}
      </Card>

      <Card title="Task runs">
        {tasks.isError && <ErrorNotice title="Could not load task runs" error={tasks.error} />}
        {tasks.data && tasks.data.results.length === 0 && <p className="muted">No task runs.</p>}
        {tasks.data && tasks.data.results.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Task runs</caption>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col">Run time</th>
              </tr>
            </thead>
            <tbody>
              {tasks.data.results.map((task) => (
                <tr key={task.id}>
                  <td>{task.name}</td>
                  <td>
                    <StatePill type={task.state_type} name={task.state_name} />
                  </td>
                  <td>{formatDateTime(task.start_time)}</td>
                  <td>{formatDuration(task.total_run_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <LogsPanel flowRunId={runId} live={live} />

      <Card title="Artifacts">
        {artifacts.isError && <ErrorNotice title="Could not load artifacts" error={artifacts.error} />}
        {artifacts.data && artifacts.data.results.length === 0 && <p className="muted">No artifacts.</p>}
        {artifacts.data?.results.map((artifact) => (
          <section key={artifact.id} className="artifact" aria-label={artifact.key ?? artifact.type}>
            <p className="artifact__meta">
              <strong>{artifact.key ?? 'Untitled'}</strong> · {artifact.type}
              {artifact.description && ` · ${artifact.description}`}
            </p>
            <ArtifactView artifact={artifact} />
          </section>
        ))}
      </Card>
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="facts__row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
