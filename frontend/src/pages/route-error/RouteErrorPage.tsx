import { useRouteError } from 'react-router';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

/**
 * Shown inside the app shell when a page throws while rendering or its code chunk fails
 * to load (typically after a deploy replaced the hashed files): reloading fixes the latter.
 */
export function RouteErrorPage() {
  const error = useRouteError();
  const message = error instanceof Error ? error.message : 'An unexpected error occurred.';
  return (
    <>
      <PageHeader title="Something went wrong" />
      <EmptyState
        title="This page could not be shown"
        actions={
          <Button variant="primary" onClick={() => window.location.reload()}>
            Reload the page
          </Button>
        }
      >
        <p>{message}</p>
      </EmptyState>
    </>
  );
}
