import { useQuery } from '@tanstack/react-query';
import { fetchInstanceInfo, type DeploymentMode } from '../../api/system';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Spinner } from '../../components/Spinner';

const MODE_LABELS: Record<DeploymentMode, string> = {
  embedded: 'Embedded',
  production: 'Production',
};

export function InstanceCard() {
  const info = useQuery({ queryKey: ['system', 'info'], queryFn: fetchInstanceInfo });

  return (
    <Card title="Instance">
      {info.isPending && <Spinner label="Loading instance details…" />}
      {info.isError && <ErrorNotice title="Could not load instance details" error={info.error} />}
      {info.data && (
        <>
          <dl className="facts">
            <div className="facts__row">
              <dt>Version</dt>
              <dd>
                <code>{info.data.version}</code>
              </dd>
            </div>
            <div className="facts__row">
              <dt>Mode</dt>
              <dd>{MODE_LABELS[info.data.mode] ?? info.data.mode}</dd>
            </div>
          </dl>
          <ul className="link-list">
            <li>
              <a href={info.data.api_docs_url}>API documentation</a>
            </li>
            <li>
              <a href={info.data.api_schema_url}>OpenAPI schema</a>
            </li>
          </ul>
        </>
      )}
    </Card>
  );
}
