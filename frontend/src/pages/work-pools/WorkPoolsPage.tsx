import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { fetchAgents, fetchQueues, fetchWorkPools, setPoolPaused, setQueuePaused, setQueuePriority } from '../../api/pools';
import type { WorkPool, WorkQueue } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatusPill } from '../../components/StatusPill';
import { formatDateTime, formatRelative } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';
import { AddAgentPanel } from './AddAgentPanel';
import { NewPoolForm } from './NewPoolForm';
import { poolTypeInfo } from './poolTypes';

export default function WorkPoolsPage() {
  const ref = useWorkspaceRef();
  const pools = useQuery({ queryKey: ['pools', ref], queryFn: () => fetchWorkPools(ref) });
  const agents = useQuery({ queryKey: ['agents', ref], queryFn: () => fetchAgents(ref), refetchInterval: 10_000 });
  const [adding, setAdding] = useState<WorkPool | null>(null);
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader title="Work pools">Where runs execute, and the agents serving them.</PageHeader>
      {creating ? (
        <NewPoolForm
          onCreated={(pool) => {
            setCreating(false);
            setAdding(pool);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : (
        <div className="toolbar">
          <Button variant="primary" onClick={() => setCreating(true)}>
            New work pool
          </Button>
        </div>
      )}
      {pools.isPending && <Spinner label="Loading work pools…" />}
      {pools.isError && <ErrorNotice title="Could not load work pools" error={pools.error} />}
      {pools.data?.results.length === 0 && (
        <EmptyState title="No work pools">
          <p>A pool is created when an agent or a deployment names one.</p>
        </EmptyState>
      )}
      {adding && <AddAgentPanel pool={adding} onClose={() => setAdding(null)} />}
      {pools.data?.results.map((pool) => <PoolCard key={pool.id} pool={pool} onAddAgent={() => setAdding(pool)} />)}
      <Card title="Agents">
        {agents.isError && <ErrorNotice title="Could not load agents" error={agents.error} />}
        {agents.data && agents.data.results.length === 0 && <p className="muted">No agent has said hello yet.</p>}
        {agents.data && agents.data.results.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Agents</caption>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Pool</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col">Capacity</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {agents.data.results.map((agent) => (
                <tr key={agent.id}>
                  <td>{agent.name}</td>
                  <td>{agent.pool_name}</td>
                  <td>
                    <StatusPill tone={agent.status === 'online' ? 'success' : 'neutral'}>{agent.status}</StatusPill>
                  </td>
                  <td title={formatDateTime(agent.last_seen_at)}>{formatRelative(agent.last_seen_at)}</td>
                  <td>{agent.capacity}</td>
                  <td>{agent.version}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function PoolCard({ pool, onAddAgent }: { pool: WorkPool; onAddAgent: () => void }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const queues = useQuery({ queryKey: ['queues', ref, pool.id], queryFn: () => fetchQueues(ref, pool.id) });
  const pause = useMutation({
    mutationFn: () => setPoolPaused(ref, pool.id, !pool.paused),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['pools', ref] }),
  });
  return (
    <Card
      title={`${pool.name} (${poolTypeInfo(pool.type)?.label ?? pool.type})`}
      aside={pool.paused ? <StatusPill tone="warning">Paused</StatusPill> : <StatusPill tone="success">Ready</StatusPill>}
    >
      <div className="toolbar">
        <Button onClick={() => pause.mutate()} disabled={pause.isPending}>
          {pool.paused ? 'Resume pool' : 'Pause pool'}
        </Button>
        <Button variant="primary" onClick={onAddAgent}>
          Add agent
        </Button>
      </div>
      {pause.isError && <ErrorNotice title="Could not change the pool" error={pause.error} />}
      {queues.isError && <ErrorNotice title="Could not load queues" error={queues.error} />}
      {queues.data && (
        <table className="table">
          <caption className="visually-hidden">Queues of {pool.name}</caption>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Priority</th>
              <th scope="col">Concurrency</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {queues.data.results.map((queue) => (
              <QueueRow key={queue.id} queue={queue} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function QueueRow({ queue }: { queue: WorkQueue }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['queues', ref, queue.pool_id] });
  const pause = useMutation({ mutationFn: () => setQueuePaused(ref, queue, !queue.paused), onSuccess: refresh });
  const priority = useMutation({ mutationFn: (value: number) => setQueuePriority(ref, queue, value), onSuccess: refresh });
  return (
    <tr>
      <td>{queue.name}</td>
      <td>
        <input
          type="number"
          min={1}
          className="field__input field__input--narrow"
          aria-label={`Priority of ${queue.name}`}
          defaultValue={queue.priority}
          onBlur={(e) => {
            const value = Number(e.target.value);
            if (Number.isInteger(value) && value >= 1 && value !== queue.priority) priority.mutate(value);
          }}
        />
      </td>
      <td>{queue.concurrency_limit ?? 'unlimited'}</td>
      <td>
        <label className="checkbox">
          <input type="checkbox" checked={queue.paused} onChange={() => pause.mutate()} disabled={pause.isPending} />
          Paused
        </label>
      </td>
    </tr>
  );
}
