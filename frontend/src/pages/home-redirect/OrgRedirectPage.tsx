import { Navigate, useParams } from 'react-router';
import { EmptyState } from '../../components/EmptyState';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Spinner } from '../../components/Spinner';
import { useWorkspaces } from '../../workspace/queries';
import { workspaceUrl } from '../../workspace/workspace';

/** `/o/:org`: open the organisation's first workspace. */
export default function OrgRedirectPage() {
  const { org = '' } = useParams();
  const workspaces = useWorkspaces(org);
  if (workspaces.isPending) return <Spinner label="Loading workspaces…" />;
  if (workspaces.isError) return <ErrorNotice title="Could not load the workspaces" error={workspaces.error} />;
  const first = workspaces.data[0];
  if (first) return <Navigate to={workspaceUrl({ org, ws: first.slug })} replace />;
  return (
    <EmptyState title="No workspace yet">
      <p>This organisation has no workspace you can enter. Ask an admin to add you to one.</p>
    </EmptyState>
  );
}
