import { useId } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useWorkspaceRef, workspaceUrl } from './workspace';
import { useMe, useWorkspaces } from './queries';

/** The section of the current page (first segment after the workspace), kept across a switch. */
function currentSection(pathname: string): string {
  const match = /^\/o\/[^/]+\/w\/[^/]+\/([^/]+)/.exec(pathname);
  return match?.[1] ?? '';
}

/**
 * Two selects: organisation, then workspace. Switching the workspace keeps the current
 * section (a run list stays a run list); switching the organisation opens its first workspace.
 */
export function WorkspaceSwitcher() {
  const ref = useWorkspaceRef();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const me = useMe();
  const workspaces = useWorkspaces(ref.org);
  const orgId = useId();
  const wsId = useId();

  const orgs = me.data?.organizations ?? [];

  return (
    <div className="switcher" role="group" aria-label="Organisation and workspace">
      <label htmlFor={orgId} className="switcher__label">
        Organisation
      </label>
      <select
        id={orgId}
        className="switcher__select"
        value={ref.org}
        onChange={(event) => void navigate(`/o/${encodeURIComponent(event.target.value)}`)}
      >
        {!orgs.some((org) => org.slug === ref.org) && <option value={ref.org}>{ref.org}</option>}
        {orgs.map((org) => (
          <option key={org.slug} value={org.slug}>
            {org.name}
          </option>
        ))}
      </select>
      <label htmlFor={wsId} className="switcher__label">
        Workspace
      </label>
      <select
        id={wsId}
        className="switcher__select"
        value={ref.ws}
        onChange={(event) =>
          void navigate(workspaceUrl({ org: ref.org, ws: event.target.value }, currentSection(pathname)))
        }
      >
        {!workspaces.data?.some((ws) => ws.slug === ref.ws) && <option value={ref.ws}>{ref.ws}</option>}
        {workspaces.data?.map((ws) => (
          <option key={ws.slug} value={ws.slug}>
            {ws.name}
          </option>
        ))}
      </select>
    </div>
  );
}
