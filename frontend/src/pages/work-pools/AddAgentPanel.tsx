import type { WorkPool } from '../../api/types';
import { Card } from '../../components/Card';
import { CopyButton } from '../../components/CopyButton';
import { useWorkspaceRef } from '../../workspace/workspace';

/** Copy-paste commands to start an agent for a pool, with this workspace's API URL filled in. */
export function AddAgentPanel({ pool, onClose }: { pool: WorkPool; onClose: () => void }) {
  const { org, ws } = useWorkspaceRef();
  const apiUrl = `${window.location.origin}/api/v1/orgs/${org}/workspaces/${ws}`;
  const script = [
    'pip install tether',
    `export TETHER_API_URL=${apiUrl}`,
    'export TETHER_API_KEY=tether_sa_…   # a worker-role service-account key (Settings → Service accounts)',
    'tether agent check',
    `tether agent start --pool ${pool.name}`,
  ].join('\n');
  return (
    <Card title={`Add an agent to ${pool.name}`} aside={<button type="button" className="theme-toggle" onClick={onClose}>Close</button>}>
      <p>Run these on a machine inside your network. The agent only dials out: no inbound port is needed.</p>
      <pre className="code-block" aria-label="Install commands">
        {script}
      </pre>
      <CopyButton text={script} label="Copy commands" />
    </Card>
  );
}
