import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { LiveProvider } from '../live/LiveProvider';
import { LiveStatusBadge } from '../live/LiveStatusBadge';
import { NAV_SECTIONS } from '../navigation';
import { useLogout, useSessionUser } from '../session/session';
import { WorkspaceSwitcher } from '../workspace/WorkspaceSwitcher';
import { useWorkspaceLink, useWorkspaceRef } from '../workspace/workspace';
import { Spinner } from './Spinner';
import { ThemeToggle } from './ThemeToggle';

export function AppShell() {
  const link = useWorkspaceLink();
  const ref = useWorkspaceRef();
  const user = useSessionUser();
  const signOut = useLogout();
  return (
    <LiveProvider workspace={ref}>
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <NavLink to={link()} className="wordmark" aria-label="Tether home">
          <span className="wordmark__mark" aria-hidden="true">
            T
          </span>
          Tether
        </NavLink>
        <WorkspaceSwitcher />
        <nav aria-label="Main" className="sidebar__nav">
          <ul>
            {NAV_SECTIONS.map((section) => (
              <li key={section.path}>
                <NavLink to={link(section.path)} end={section.path === ''} className="sidebar__link">
                  {section.label}
                  {!section.available && (
                    <>
                      <span className="sidebar__soon" aria-hidden="true">
                        Soon
                      </span>
                      <span className="visually-hidden"> (coming soon)</span>
                    </>
                  )}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar__footer">
          <p className="sidebar__user" title={user.email}>
            {user.display}
          </p>
          <button
            type="button"
            className="theme-toggle"
            onClick={() => signOut.mutate()}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
          <ThemeToggle />
          <LiveStatusBadge />
        </div>
      </aside>
      <main id="main" className="shell__main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
    </LiveProvider>
  );
}
