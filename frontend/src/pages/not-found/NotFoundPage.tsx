import { useLocation } from 'react-router';
import { ButtonLink } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

export default function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="Nothing lives at this address"
        actions={
          <ButtonLink to="/" variant="primary">
            Go to the start page
          </ButtonLink>
        }
      >
        <p>
          There is no page at <code>{pathname}</code>. It may have moved, or the link may be mistyped.
        </p>
      </EmptyState>
    </>
  );
}
