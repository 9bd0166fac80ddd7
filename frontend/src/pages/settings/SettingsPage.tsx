import { useSearchParams } from 'react-router';
import { PageHeader } from '../../components/PageHeader';
import { ApiKeysSection } from './ApiKeysSection';
import { AuditLogSection } from './AuditLogSection';
import { InvitationsSection } from './InvitationsSection';
import { MembersSection } from './MembersSection';
import { ServiceAccountsSection } from './ServiceAccountsSection';

const TABS = [
  { id: 'members', label: 'Members' },
  { id: 'invitations', label: 'Invitations' },
  { id: 'service-accounts', label: 'Service accounts' },
  { id: 'api-keys', label: 'API keys' },
  { id: 'audit', label: 'Audit log' },
] as const;

type TabId = (typeof TABS)[number]['id'];

/** One page, several sections; the open one is in the URL (`?tab=api-keys`) so it can be linked. */
export default function SettingsPage() {
  const [params, setParams] = useSearchParams();
  const requested = params.get('tab');
  const tab: TabId = TABS.find((candidate) => candidate.id === requested)?.id ?? 'members';
  return (
    <>
      <PageHeader title="Settings">Who can do what in this organisation and workspace.</PageHeader>
      <nav aria-label="Settings sections" className="tabs">
        {TABS.map((candidate) => (
          <button
            key={candidate.id}
            type="button"
            className="tabs__tab"
            aria-current={candidate.id === tab ? 'page' : undefined}
            onClick={() => setParams({ tab: candidate.id })}
          >
            {candidate.label}
          </button>
        ))}
      </nav>
      {tab === 'members' && <MembersSection />}
      {tab === 'invitations' && <InvitationsSection />}
      {tab === 'service-accounts' && <ServiceAccountsSection />}
      {tab === 'api-keys' && <ApiKeysSection />}
      {tab === 'audit' && <AuditLogSection />}
    </>
  );
}
