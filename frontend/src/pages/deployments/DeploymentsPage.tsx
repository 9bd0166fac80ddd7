import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { fetchDeployments } from '../../api/deployments';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Pager } from '../../components/Pager';
import { Spinner } from '../../components/Spinner';
import { StatusPill } from '../../components/StatusPill';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';

export default function DeploymentsPage() {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const [pageUrl, setPageUrl] = useState<string | undefined>(undefined);
  const deployments = useQuery({
    queryKey: ['deployments', ref, pageUrl ?? 'all'],
    queryFn: () => fetchDeployments(ref, pageUrl),
  });

  return (
    <>
      <PageHeader title="Deployments">Flows registered to run on a work pool.</PageHeader>
      {deployments.isPending && <Spinner label="Loading deployments…" />}
      {deployments.isError && <ErrorNotice title="Could not load deployments" error={deployments.error} />}
      {deployments.data?.results.length === 0 && (
        <EmptyState title="No deployments yet">
          <p>
            Register one with <code>tether deploy flows.py:etl --name nightly --pool main</code>.
          </p>
        </EmptyState>
      )}
      {deployments.data && deployments.data.results.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Deployments</caption>
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Work pool</th>
              <th scope="col">Tags</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {deployments.data.results.map((deployment) => (
              <tr key={deployment.id}>
                <td>
                  <Link to={link(`deployments/${deployment.id}`)}>
                    {deployment.flow_name}/{deployment.name}
                  </Link>
                </td>
                <td>{deployment.work_pool_name ?? '—'}</td>
                <td>{deployment.tags.join(', ')}</td>
                <td>
                  {deployment.paused ? (
                    <StatusPill tone="warning">Paused</StatusPill>
                  ) : (
                    <StatusPill tone="success">Active</StatusPill>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Deployment pages" next={deployments.data?.next} previous={deployments.data?.previous} onPage={setPageUrl} />
    </>
  );
}
