import type { TaskRun } from '../../api/types';

export interface WorkerSummary {
  name: string;
  running: number;
  total: number;
}

/** The task workers seen in these runs, with how many of them each is running now. */
export function summariseWorkers(runs: readonly Pick<TaskRun, 'worker_name' | 'state_type'>[]): WorkerSummary[] {
  const byName = new Map<string, WorkerSummary>();
  for (const run of runs) {
    if (!run.worker_name) continue;
    const summary = byName.get(run.worker_name) ?? { name: run.worker_name, running: 0, total: 0 };
    summary.total += 1;
    if (run.state_type === 'RUNNING') summary.running += 1;
    byName.set(run.worker_name, summary);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Seconds from start to end, or to `now` while it runs; undefined before it starts. */
export function runDuration(run: Pick<TaskRun, 'start_time' | 'end_time'>, now: number = Date.now()): number | undefined {
  if (!run.start_time) return undefined;
  const start = new Date(run.start_time).getTime();
  const end = run.end_time ? new Date(run.end_time).getTime() : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return Math.max(0, (end - start) / 1000);
}
