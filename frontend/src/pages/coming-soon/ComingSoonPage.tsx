import { ButtonLink } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';
import type { NavSection } from '../../navigation';
import { useWorkspaceLink } from '../../workspace/workspace';

export default function ComingSoonPage({ section }: { section: NavSection }) {
  const link = useWorkspaceLink();
  return (
    <>
      <PageHeader title={section.label}>{section.summary}</PageHeader>
      <EmptyState
        title="Coming soon"
        actions={
          <ButtonLink to={link()} variant="primary">
            Back to the dashboard
          </ButtonLink>
        }
      >
        <p>
          The {section.label} page is not built yet: it is planned for an upcoming release of Tether. Nothing is
          broken, this section simply has no screen so far.
        </p>
      </EmptyState>
    </>
  );
}
