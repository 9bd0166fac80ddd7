import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { NAV_SECTIONS } from '../navigation';
import { Spinner } from './Spinner';
import { ThemeToggle } from './ThemeToggle';

export function AppShell() {
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <NavLink to="/" className="wordmark" aria-label="Tether home">
          <span className="wordmark__mark" aria-hidden="true">
            T
          </span>
          Tether
        </NavLink>
        <nav aria-label="Main" className="sidebar__nav">
          <ul>
            {NAV_SECTIONS.map((section) => (
              <li key={section.path}>
                <NavLink to={section.path} end className="sidebar__link">
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
          <ThemeToggle />
        </div>
      </aside>
      <main id="main" className="shell__main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
