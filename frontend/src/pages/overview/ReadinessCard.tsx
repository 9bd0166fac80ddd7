import { useQuery } from '@tanstack/react-query';
import { fetchReadiness } from '../../api/system';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Spinner } from '../../components/Spinner';
import { StatusPill } from '../../components/StatusPill';
import { checkName, presentCheck } from './readiness';

const REFRESH_MS = 15_000;

export function ReadinessCard() {
  const readiness = useQuery({
    queryKey: ['system', 'readiness'],
    queryFn: fetchReadiness,
    refetchInterval: REFRESH_MS,
  });

  const overall =
    readiness.data &&
    (readiness.data.status === 'ok' ? (
      <StatusPill tone="success">Ready</StatusPill>
    ) : (
      <StatusPill tone="danger">Unavailable</StatusPill>
    ));

  return (
    <Card title="Readiness" aside={overall}>
      {readiness.isPending && <Spinner label="Checking readiness…" />}
      {readiness.isError && <ErrorNotice title="Could not check readiness" error={readiness.error} />}
      {readiness.data && (
        <ul className="check-list" aria-label="Readiness checks">
          {Object.entries(readiness.data.checks).map(([key, value]) => {
            const check = presentCheck(value);
            return (
              <li key={key} className="check-list__item">
                <span className="check-list__name">{checkName(key)}</span>
                <StatusPill tone={check.tone}>{check.label}</StatusPill>
                {check.reason && <span className="check-list__reason">{check.reason}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}
