import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { fetchAgents } from '../../api/pools';
import { fetchRecentRuns, fetchRunCounts } from '../../api/runs';
import { STATE_TYPES, type FlowRun } from '../../api/types';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatePill } from '../../components/StatePill';
import { formatDateTime, formatRelative } from '../../format/time';
import { usePollWhileOffline } from '../../live/LiveProvider';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';

const REFRESH_MS = 10_000;
const DAY_MS = 86_400_000;

export default function DashboardPage() {
  const ref = useWorkspaceRef();
  // State changes arrive on the live socket. The scheduler's bulk inserts and agents are not
  // announced there, so counts, upcoming runs and agents keep polling.
  const runsPoll = usePollWhileOffline(REFRESH_MS);
  const counts = useQuery({ queryKey: ['counts', ref], queryFn: () => fetchRunCounts(ref), refetchInterval: REFRESH_MS });
  const attention = useQuery({
    queryKey: ['dashboard', ref, 'attention'],
    queryFn: () => fetchRecentRuns(ref, { state_type: 'FAILED,CRASHED', page_size: 10 }),
    refetchInterval: runsPoll,
  });
  const late = useQuery({
    queryKey: ['dashboard', ref, 'late'],
    queryFn: () => fetchRecentRuns(ref, { state_name: 'Late', page_size: 10 }),
    refetchInterval: runsPoll,
  });
  const upcomingRuns = useQuery({
    queryKey: ['dashboard', ref, 'upcoming'],
    queryFn: () => {
      const now = Date.now();
      return fetchRecentRuns(ref, {
        state_type: 'SCHEDULED',
        expected_start_after: new Date(now).toISOString(),
        expected_start_before: new Date(now + DAY_MS).toISOString(),
        sort: 'created',
        page_size: 50,
      });
    },
    refetchInterval: REFRESH_MS,
  });
  const agents = useQuery({ queryKey: ['agents', ref], queryFn: () => fetchAgents(ref), refetchInterval: REFRESH_MS });

  // The API sorts by creation only; the scheduler creates runs ahead, so sort by start here.
  const upcoming = [...(upcomingRuns.data?.results ?? [])]
    .sort((a, b) => (a.expected_start_time ?? '').localeCompare(b.expected_start_time ?? ''))
    .slice(0, 8);
  const total = Object.values(counts.data ?? {}).reduce((sum, value) => sum + value, 0);
  const completed = counts.data?.['COMPLETED'] ?? 0;
  const failed = (counts.data?.['FAILED'] ?? 0) + (counts.data?.['CRASHED'] ?? 0);
  const online = agents.data?.results.filter((agent) => agent.status === 'online') ?? [];

  return (
    <>
      <PageHeader title="Dashboard">What is running, what failed and what is next in {ref.ws}.</PageHeader>
      <Card title="Runs by state">
        {counts.isPending && <Spinner label="Counting runs…" />}
        {counts.isError && <ErrorNotice title="Could not count runs" error={counts.error} />}
        {counts.data && (
          <>
            <ul className="stat-grid" aria-label="Run counts">
              {STATE_TYPES.map((type) => (
                <li key={type} className="stat">
                  <span className="stat__value">{counts.data[type] ?? 0}</span>
                  <StatePill type={type} />
                </li>
              ))}
            </ul>
            {completed + failed > 0 && (
              <p className="muted">
                Success rate of finished runs: {Math.round((completed / (completed + failed)) * 100)}% · {total} runs in
                total
              </p>
            )}
          </>
        )}
      </Card>
      <div className="card-grid">
        <RunListCard title="Failed runs" runs={attention.data?.results} error={attention.error} empty="No failures." />
        <RunListCard title="Late runs" runs={late.data?.results} error={late.error} empty="Nothing is late." />
        <RunListCard
          title="Upcoming runs"
          runs={upcomingRuns.data ? upcoming : undefined}
          error={upcomingRuns.error}
          empty="Nothing scheduled in the next 24 hours."
        />
        <Card title="Agents">
          {agents.isError && <ErrorNotice title="Could not load agents" error={agents.error} />}
          {agents.data && (
            <p>
              <strong>{online.length}</strong> of {agents.data.results.length} agent
              {agents.data.results.length === 1 ? '' : 's'} online
            </p>
          )}
          <ul className="plain-list">
            {online.map((agent) => (
              <li key={agent.id}>
                {agent.name} <span className="muted">· {agent.pool_name}</span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  );
}

function RunListCard({ title, runs, error, empty }: { title: string; runs: FlowRun[] | undefined; error: Error | null; empty: string }) {
  const link = useWorkspaceLink();
  return (
    <Card title={title}>
      {error && <ErrorNotice title={`Could not load ${title.toLowerCase()}`} error={error} />}
      {runs && runs.length === 0 && <p className="muted">{empty}</p>}
      {runs && runs.length > 0 && (
        <ul className="plain-list">
          {runs.map((run) => (
            <li key={run.id} className="row-between">
              <span>
                <Link to={link(`flow-runs/${run.id}`)}>{run.name}</Link>
                <span className="muted"> · {run.deployment_name || run.flow_name}</span>
              </span>
              <span title={formatDateTime(run.expected_start_time)}>
                <StatePill type={run.state_type} name={run.state_name} /> {formatRelative(run.expected_start_time)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
