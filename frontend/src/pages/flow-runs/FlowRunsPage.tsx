import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import {
  batchCancelRuns,
  batchDeleteRuns,
  fetchFlowRuns,
  NO_RUN_FILTERS,
  type FlowRunFilters,
} from '../../api/runs';
import type { BatchOutcome } from '../../api/types';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Pager } from '../../components/Pager';
import { Spinner } from '../../components/Spinner';
import { StatePill } from '../../components/StatePill';
import { formatDateTime, formatRelative } from '../../format/time';
import { usePollWhileOffline } from '../../live/LiveProvider';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { RunFilters } from './RunFilters';

function summarise(action: string, outcomes: BatchOutcome[]): string {
  const done = outcomes.filter((outcome) => outcome.ok).length;
  const refused = outcomes.filter((outcome) => !outcome.ok);
  const first = refused[0];
  return refused.length === 0
    ? `${action} ${done} run${done === 1 ? '' : 's'}.`
    : `${action} ${done}; ${refused.length} refused${first ? ` (${first.detail})` : ''}.`;
}

export default function FlowRunsPage() {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const queryClient = useQueryClient();
  const [filters, setFilters] = useState<FlowRunFilters>(NO_RUN_FILTERS);
  const [pageUrl, setPageUrl] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState('');
  // Runs the scheduler inserts in bulk are not announced live: a slow poll picks them up.
  const poll = usePollWhileOffline(5000) || 30_000;

  const runs = useQuery({
    queryKey: ['flow-runs', ref, filters, pageUrl],
    queryFn: () => fetchFlowRuns(ref, filters, pageUrl),
    refetchInterval: poll,
  });

  const batch = useMutation({
    mutationFn: async (action: 'cancel' | 'delete') => {
      const ids = [...selected];
      const outcomes = action === 'cancel' ? await batchCancelRuns(ref, ids) : await batchDeleteRuns(ref, ids);
      return { action, outcomes };
    },
    onSuccess: async ({ action, outcomes }) => {
      setNotice(summarise(action === 'cancel' ? 'Cancelled' : 'Deleted', outcomes));
      setSelected(new Set());
      await queryClient.invalidateQueries({ queryKey: ['flow-runs', ref] });
    },
  });

  function changeFilters(next: FlowRunFilters) {
    setFilters(next);
    setPageUrl(undefined);
    setSelected(new Set());
  }

  const results = runs.data?.results ?? [];
  const allSelected = results.length > 0 && results.every((run) => selected.has(run.id));

  function toggle(id: string) {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  }

  function toggleAll() {
    setSelected(allSelected ? new Set() : new Set(results.map((run) => run.id)));
  }

  return (
    <>
      <PageHeader title="Flow runs">Every run in this workspace, newest first.</PageHeader>
      <RunFilters filters={filters} onChange={changeFilters} />
      <div className="toolbar" role="toolbar" aria-label="Selected runs">
        <span aria-live="polite">{selected.size} selected</span>
        <Button disabled={selected.size === 0 || batch.isPending} onClick={() => batch.mutate('cancel')}>
          Cancel selected
        </Button>
        <Button
          disabled={selected.size === 0 || batch.isPending}
          onClick={() => {
            if (window.confirm(`Delete ${selected.size} run(s)? Runs in flight are kept.`)) batch.mutate('delete');
          }}
        >
          Delete selected
        </Button>
      </div>
      {notice && <FormMessage tone="info">{notice}</FormMessage>}
      {batch.isError && <ErrorNotice title="The batch action failed" error={batch.error} />}
      {runs.isPending && <Spinner label="Loading runs…" />}
      {runs.isError && <ErrorNotice title="Could not load runs" error={runs.error} />}
      {runs.data && results.length === 0 && (
        <EmptyState title="No runs match">
          <p>Change the filters, or start a run from a deployment.</p>
        </EmptyState>
      )}
      {results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Flow runs</caption>
          <thead>
            <tr>
              <th scope="col">
                <input type="checkbox" aria-label="Select all runs on this page" checked={allSelected} onChange={toggleAll} />
              </th>
              <th scope="col">Run</th>
              <th scope="col">Deployment</th>
              <th scope="col">State</th>
              <th scope="col">Expected start</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {results.map((run) => (
              <tr key={run.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${run.name}`}
                    checked={selected.has(run.id)}
                    onChange={() => toggle(run.id)}
                  />
                </td>
                <td>
                  <Link to={link(`flow-runs/${run.id}`)}>{run.name}</Link>
                  <div className="muted">{run.flow_name}</div>
                </td>
                <td>{run.deployment_name || '—'}</td>
                <td>
                  <StatePill type={run.state_type} name={run.state_name} />
                </td>
                <td title={formatDateTime(run.expected_start_time)}>{formatRelative(run.expected_start_time)}</td>
                <td>{Array.isArray(run.tags) ? (run.tags as unknown[]).join(', ') : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Flow run pages" next={runs.data?.next} previous={runs.data?.previous} onPage={setPageUrl} />
    </>
  );
}
