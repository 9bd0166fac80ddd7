import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useId, useState } from 'react';
import { fetchLogs } from '../../api/runs';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Spinner } from '../../components/Spinner';
import { useLive, usePollWhileOffline } from '../../live/LiveProvider';
import { useWorkspaceRef } from '../../workspace/workspace';

export const LOG_LEVELS: readonly { value: number; label: string }[] = [
  { value: 0, label: 'All levels' },
  { value: 10, label: 'Debug and above' },
  { value: 20, label: 'Info and above' },
  { value: 30, label: 'Warning and above' },
  { value: 40, label: 'Error and above' },
  { value: 50, label: 'Critical' },
];

const LEVEL_NAMES: Record<number, string> = { 10: 'DEBUG', 20: 'INFO', 30: 'WARNING', 40: 'ERROR', 50: 'CRITICAL' };

export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? `L${level}`;
}

export const LOG_POLL_MS = 2000;

/**
 * A run's log lines, filtered on the server (minimum level, substring search). While the
 * run is live, new lines are announced on the live socket (polling every 2 s while it is down).
 */
export function LogsPanel({ flowRunId, live }: { flowRunId: string; live: boolean }) {
  const ref = useWorkspaceRef();
  const [level, setLevel] = useState(0);
  const [search, setSearch] = useState('');
  const q = useDeferredValue(search);
  const levelId = useId();
  const searchId = useId();
  const pollOffline = usePollWhileOffline(LOG_POLL_MS);
  const socketUp = useLive().status === 'open';

  const logs = useQuery({
    queryKey: ['logs', ref, flowRunId, level, q],
    queryFn: () => fetchLogs(ref, flowRunId, { level, q }),
    refetchInterval: live ? pollOffline : false,
    placeholderData: (previous) => previous,
  });

  return (
    <Card title="Logs" aside={live ? <span className="muted">{socketUp ? 'live' : 'live (polling)'}</span> : undefined}>
      <div className="filters__row">
        <div className="field">
          <label htmlFor={levelId} className="field__label">
            Level
          </label>
          <select id={levelId} className="field__input" value={level} onChange={(e) => setLevel(Number(e.target.value))}>
            {LOG_LEVELS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={searchId} className="field__label">
            Search logs
          </label>
          <input
            id={searchId}
            type="search"
            className="field__input"
            maxLength={200}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
      </div>
      {logs.isPending && <Spinner label="Loading logs…" />}
      {logs.isError && <ErrorNotice title="Could not load logs" error={logs.error} />}
      {logs.data && logs.data.results.length === 0 && <p className="muted">No log lines{q || level ? ' match' : ' yet'}.</p>}
      {logs.data && logs.data.results.length > 0 && (
        <ol className="logs" aria-label="Log lines">
          {logs.data.results.map((line) => (
            <li key={line.id} className={`logs__line logs__line--${levelName(line.level).toLowerCase()}`}>
              <time dateTime={line.timestamp} className="logs__time">
                {new Date(line.timestamp).toLocaleTimeString()}
              </time>
              <span className="logs__level">{levelName(line.level)}</span>
              <span className="logs__message">{line.message}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
