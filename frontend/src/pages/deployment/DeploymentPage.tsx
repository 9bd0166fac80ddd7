import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { fetchDeployment, pauseDeployment, resumeDeployment } from '../../api/deployments';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { StatusPill } from '../../components/StatusPill';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { RunForm } from './RunForm';
import { SchedulesCard } from './SchedulesCard';
import { SlasCard } from './SlasCard';

export default function DeploymentPage() {
  const { deploymentId = '' } = useParams();
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const queryClient = useQueryClient();
  const deployment = useQuery({
    queryKey: ['deployment', ref, deploymentId],
    queryFn: () => fetchDeployment(ref, deploymentId),
  });
  const pause = useMutation({
    mutationFn: (paused: boolean) => (paused ? pauseDeployment(ref, deploymentId) : resumeDeployment(ref, deploymentId)),
    onSuccess: (updated) => queryClient.setQueryData(['deployment', ref, deploymentId], updated),
  });

  if (deployment.isPending) return <Spinner label="Loading the deployment…" />;
  if (deployment.isError) return <ErrorNotice title="Could not load this deployment" error={deployment.error} />;
  const data = deployment.data;

  return (
    <>
      <PageHeader title={`${data.flow_name}/${data.name}`}>{data.description || data.entrypoint}</PageHeader>
      <div className="toolbar">
        {data.paused ? <StatusPill tone="warning">Paused</StatusPill> : <StatusPill tone="success">Active</StatusPill>}
        <Button onClick={() => pause.mutate(!data.paused)} disabled={pause.isPending}>
          {data.paused ? 'Resume' : 'Pause'}
        </Button>
        <Link to={link(`flow-runs`)}>All runs</Link>
      </div>
      {pause.isError && <ErrorNotice title="Could not change the deployment" error={pause.error} />}
      <div className="card-grid">
        <Card title="Run">
          <RunForm deployment={data} />
        </Card>
        <Card title="Details">
          <dl className="facts">
            <div className="facts__row">
              <dt>Entrypoint</dt>
              <dd>
                <code>{data.entrypoint}</code>
              </dd>
            </div>
            <div className="facts__row">
              <dt>Work pool</dt>
              <dd>
                {data.work_pool_name ?? '—'}
                {data.work_queue_name && ` / ${data.work_queue_name}`}
              </dd>
            </div>
            <div className="facts__row">
              <dt>Concurrency</dt>
              <dd>{data.concurrency_limit ?? 'unlimited'}</dd>
            </div>
            <div className="facts__row">
              <dt>Tags</dt>
              <dd>{data.tags.join(', ') || '—'}</dd>
            </div>
          </dl>
        </Card>
      </div>
      <SchedulesCard deploymentId={deploymentId} />
      <SlasCard deploymentId={deploymentId} />
    </>
  );
}
