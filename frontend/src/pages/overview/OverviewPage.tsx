import { PageHeader } from '../../components/PageHeader';
import { InstanceCard } from './InstanceCard';
import { ReadinessCard } from './ReadinessCard';

export default function OverviewPage() {
  return (
    <>
      <PageHeader title="Overview">The state of this Tether instance.</PageHeader>
      <div className="card-grid">
        <InstanceCard />
        <ReadinessCard />
      </div>
    </>
  );
}
