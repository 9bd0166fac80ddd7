import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { fetchAuditLog } from '../../api/org';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Pager } from '../../components/Pager';
import { formatDateTime } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';

export function AuditLogSection() {
  const { org } = useWorkspaceRef();
  const [pageUrl, setPageUrl] = useState<string | undefined>(undefined);
  const log = useQuery({ queryKey: ['audit-log', org, pageUrl], queryFn: () => fetchAuditLog(org, pageUrl) });
  return (
    <Card title="Audit log">
      {log.isError && <ErrorNotice title="Could not load the audit log" error={log.error} />}
      {log.data && log.data.results.length === 0 && <p className="muted">Nothing recorded yet.</p>}
      {log.data && log.data.results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Audit log</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {log.data.results.map((entry) => (
              <tr key={entry.id}>
                <td>{formatDateTime(entry.created_at)}</td>
                <td>{entry.actor_label}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>
                  {entry.target_type} {entry.target_label}
                </td>
                <td>{entry.client_ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Audit log pages" next={log.data?.next} previous={log.data?.previous} onPage={setPageUrl} />
    </Card>
  );
}
