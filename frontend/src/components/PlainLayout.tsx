import { Suspense } from 'react';
import { Link, Outlet } from 'react-router';
import { Spinner } from './Spinner';
import { ThemeToggle } from './ThemeToggle';

/** The frame around sign-in and other pages outside a workspace: a narrow centred column. */
export function PlainLayout() {
  return (
    <div className="plain">
      <header className="plain__header">
        <Link to="/" className="wordmark" aria-label="Tether home">
          <span className="wordmark__mark" aria-hidden="true">
            T
          </span>
          Tether
        </Link>
        <ThemeToggle />
      </header>
      <main id="main" className="plain__main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
