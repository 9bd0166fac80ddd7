import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { fetchBackgroundTaskRuns } from '../../api/backgroundTasks';
import { STATE_TYPES, type StateType } from '../../api/types';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Button } from '../../components/Button';
import { Field } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Pager } from '../../components/Pager';
import { Spinner } from '../../components/Spinner';
import { StatePill } from '../../components/StatePill';
import { formatDateTime, formatDuration, formatRelative } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';
import { runDuration, summariseWorkers } from './backgroundFilters';

/** The live socket announces flow runs only, not task runs: this page polls instead. */
export const BACKGROUND_REFRESH_MS = 5_000;

/** The name filter asks the server once typing pauses, not on every key stroke. */
const TYPING_PAUSE_MS = 300;

/** Task runs queued with `.delay()`: their state, task, the worker that ran them, and when. */
export default function BackgroundTasksPage() {
  const ref = useWorkspaceRef();
  const [stateTypes, setStateTypes] = useState<StateType[]>([]);
  const [taskName, setTaskName] = useState('');
  const [taskKey, setTaskKey] = useState('');
  const [pageUrl, setPageUrl] = useState<string | undefined>(undefined);
  const settledTaskName = useSettled(taskName.trim(), TYPING_PAUSE_MS);
  const filters = { stateTypes, taskName: settledTaskName, taskKey };
  const runs = useQuery({
    queryKey: ['background-tasks', ref, filters, pageUrl],
    queryFn: () => fetchBackgroundTaskRuns(ref, filters, pageUrl),
    refetchInterval: BACKGROUND_REFRESH_MS,
    placeholderData: (previous) => previous,
  });

  function toggleState(type: StateType) {
    setStateTypes((current) => (current.includes(type) ? current.filter((t) => t !== type) : [...current, type]));
    setPageUrl(undefined);
  }

  function filterByTaskKey(key: string) {
    setTaskKey(key);
    setPageUrl(undefined);
  }

  const shown = runs.data?.results ?? [];
  const workers = summariseWorkers(shown);

  return (
    <>
      <PageHeader title="Background tasks">
        Task runs queued with <code>.delay()</code> and run by <code>tether task-worker serve</code>; refreshed every{' '}
        {BACKGROUND_REFRESH_MS / 1000} s.
      </PageHeader>
      <div className="filters">
        <fieldset className="filters__states">
          <legend>State</legend>
          {STATE_TYPES.map((type) => (
            <label key={type} className="checkbox">
              <input type="checkbox" checked={stateTypes.includes(type)} onChange={() => toggleState(type)} />
              {type.charAt(0) + type.slice(1).toLowerCase()}
            </label>
          ))}
        </fieldset>
        <div className="filters__row">
          <Field
            label="Task name"
            value={taskName}
            onChange={(e) => {
              setTaskName(e.target.value);
              setPageUrl(undefined);
            }}
            placeholder="send_email"
            hint="Runs whose task name contains this text, in any case."
          />
          {taskKey && (
            <div className="inline" aria-label="Task key filter" role="group">
              <span>
                Only task <code>{taskKey}</code>
              </span>
              <Button onClick={() => filterByTaskKey('')}>Show all tasks</Button>
            </div>
          )}
        </div>
      </div>
      {workers.length > 0 && (
        <Card title="Task workers">
          <ul className="plain-list" aria-label="Task workers">
            {workers.map((worker) => (
              <li key={worker.name} className="row-between">
                <span>{worker.name}</span>
                <span className="muted">
                  {worker.running} running · {worker.total} on this page
                </span>
              </li>
            ))}
          </ul>
        </Card>
      )}
      <Card title="Task runs">
        {runs.isPending && <Spinner label="Loading background task runs…" />}
        {runs.isError && <ErrorNotice title="Could not load background task runs" error={runs.error} />}
        {runs.data && shown.length === 0 && (
          <EmptyState title="No background task runs">
            <p>
              Call <code>my_task.delay(...)</code> from any process with <code>TETHER_API_URL</code> and{' '}
              <code>TETHER_API_KEY</code> set; runs matching the filters show up here.
            </p>
          </EmptyState>
        )}
        {shown.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Background task runs</caption>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">State</th>
                <th scope="col">Worker</th>
                <th scope="col">Queued</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => (
                <tr key={run.id}>
                  <td>
                    {taskKey === run.task_key ? (
                      <code>{run.task_key}</code>
                    ) : (
                      <Button title="Show only this task's runs" onClick={() => filterByTaskKey(run.task_key)}>
                        <code>{run.task_key}</code>
                      </Button>
                    )}
                    {run.name && run.name !== run.task_key && <div className="muted">{run.name}</div>}
                  </td>
                  <td>
                    <StatePill type={run.state_type} name={run.state_name} />
                    {run.state_message && <div className="muted">{run.state_message}</div>}
                  </td>
                  <td>{run.worker_name || <span className="muted">not claimed</span>}</td>
                  <td title={formatDateTime(run.created_at)}>{formatRelative(run.created_at)}</td>
                  <td title={formatDateTime(run.start_time)}>{formatRelative(run.start_time)}</td>
                  <td>
                    <Duration seconds={runDuration(run)} />
                  </td>
                  <td>
                    {run.run_count} / {run.max_retries + 1}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager next={runs.data?.next} previous={runs.data?.previous} onPage={setPageUrl} label="Background task pages" />
      </Card>
    </>
  );
}

/** `value`, once it has stayed the same for `delayMs`. */
function useSettled<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

function Duration({ seconds }: { seconds: number | undefined }) {
  return <>{seconds === undefined ? '—' : formatDuration(seconds)}</>;
}
