/**
 * The "Add agent" panel's copy-paste instructions, one set per way of running the agent. The
 * pool name, API URL and (once issued) the worker key are filled in, quoted for the shell, YAML
 * or systemd as each needs.
 */
import type { WorkPoolType } from '../../api/types';

export type InstallMethod = 'pip' | 'container' | 'kubernetes' | 'systemd';

export const INSTALL_METHODS: readonly { method: InstallMethod; label: string }[] = [
  { method: 'pip', label: 'pip' },
  { method: 'container', label: 'Container' },
  { method: 'kubernetes', label: 'Kubernetes' },
  { method: 'systemd', label: 'systemd' },
];

export const AGENT_IMAGE = 'tether/agent:0.1.0';
export const KEY_PLACEHOLDER = 'tether_sa_…';

export interface InstallSnippet {
  /** Commands to run, in order. */
  commands: string;
  /** A file the commands use, when there is one (a Kubernetes manifest). */
  file?: { name: string; text: string };
  /** What else the reader must know for this pool type. */
  note?: string;
}

const SHELL_SAFE = /^[A-Za-z0-9._:@+=/-]+$/;

/** A word the shell reads back unchanged: as is when safe, else single-quoted. */
export function shellQuote(value: string): string {
  return SHELL_SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A systemd `ExecStart=` argument: double-quoted, with `\`, `"` and `$` escaped. */
export function systemdQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$')}"`;
}

/** A JSON string is a valid YAML scalar, whatever the name holds. */
function yamlString(value: string): string {
  return JSON.stringify(value);
}

/** A Kubernetes object name for the pool: lowercase letters, digits and hyphens. */
export function kubernetesName(poolName: string): string {
  const slug = poolName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `tether-agent-${slug || 'pool'}`;
}

function pipSnippet(pool: string, apiUrl: string, apiKey: string | undefined): InstallSnippet {
  const keyLine = apiKey
    ? `export TETHER_API_KEY=${shellQuote(apiKey)}`
    : `export TETHER_API_KEY=${KEY_PLACEHOLDER}   # a worker-role service-account key (Settings → Service accounts)`;
  return {
    commands: [
      'pip install tether',
      `export TETHER_API_URL=${shellQuote(apiUrl)}`,
      keyLine,
      'tether agent check',
      `tether agent start --pool ${shellQuote(pool)}`,
    ].join('\n'),
  };
}

function containerSnippet(pool: string, apiUrl: string, apiKey: string, type: WorkPoolType): InstallSnippet {
  const dockerSocket = type === 'docker' ? ' \\\n  -v /var/run/docker.sock:/var/run/docker.sock' : '';
  return {
    commands: [
      "cat > .env.agent <<'EOF'",
      `TETHER_API_URL=${apiUrl}`,
      `TETHER_API_KEY=${apiKey}`,
      'EOF',
      'chmod 600 .env.agent',
      `docker run -d --name tether-agent --restart unless-stopped --env-file .env.agent${dockerSocket} \\`,
      `  ${AGENT_IMAGE} start --pool ${shellQuote(pool)} --work-dir /var/lib/tether`,
      'docker logs -f tether-agent',
    ].join('\n'),
    ...(type === 'docker' && {
      note: 'A docker pool starts each run as a sibling container, so the agent gets the Docker socket.',
    }),
  };
}

function kubernetesSnippet(pool: string, apiUrl: string, apiKey: string, type: WorkPoolType): InstallSnippet {
  const name = kubernetesName(pool);
  const runsJobs = type === 'kubernetes';
  const manifest = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    '  namespace: tether',
    `  labels: { app.kubernetes.io/name: ${name} }`,
    'spec:',
    '  replicas: 1',
    '  selector:',
    `    matchLabels: { app.kubernetes.io/name: ${name} }`,
    '  template:',
    '    metadata:',
    `      labels: { app.kubernetes.io/name: ${name} }`,
    '    spec:',
    ...(runsJobs ? ['      serviceAccountName: tether-agent'] : []),
    '      # SIGTERM drains: the agent stops claiming and waits for its runs.',
    '      terminationGracePeriodSeconds: 330',
    '      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 }',
    '      containers:',
    '        - name: agent',
    `          image: ${AGENT_IMAGE}`,
    `          args: ["start", "--pool", ${yamlString(pool)}, "--work-dir", "/var/lib/tether", "--drain-timeout", "300"]`,
    '          envFrom:',
    '            - secretRef: { name: tether-agent }',
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            readOnlyRootFilesystem: true',
    '            capabilities: { drop: ["ALL"] }',
    '          volumeMounts:',
    '            - { name: work, mountPath: /var/lib/tether }',
    '            - { name: tmp, mountPath: /tmp }',
    '      volumes:',
    '        - { name: work, emptyDir: {} }',
    '        - { name: tmp, emptyDir: {} }',
  ].join('\n');
  return {
    commands: [
      'kubectl create namespace tether',
      'kubectl -n tether create secret generic tether-agent \\',
      `  --from-literal=TETHER_API_URL=${shellQuote(apiUrl)} \\`,
      `  --from-literal=TETHER_API_KEY=${apiKey === KEY_PLACEHOLDER ? apiKey : shellQuote(apiKey)}`,
      `kubectl -n tether apply -f ${name}.yaml`,
      `kubectl -n tether rollout status deployment/${name}`,
    ].join('\n'),
    file: { name: `${name}.yaml`, text: manifest },
    note: runsJobs
      ? 'A kubernetes pool runs each flow run as a Job: also create the ServiceAccount, Role and RoleBinding from infra/kubernetes/agent.yaml (and its NetworkPolicy, with your addresses).'
      : 'infra/kubernetes/agent.yaml holds the full example, with a NetworkPolicy that lets the agent dial out only.',
  };
}

function systemdSnippet(pool: string, apiUrl: string, apiKey: string): InstallSnippet {
  return {
    commands: [
      'sudo useradd --system --home /var/lib/tether --shell /usr/sbin/nologin tether',
      'sudo python3 -m venv /opt/tether/venv && sudo /opt/tether/venv/bin/pip install tether',
      'sudo install -d -m 700 /etc/tether',
      "sudo tee /etc/tether/agent.env >/dev/null <<'EOF'",
      `TETHER_API_URL=${apiUrl}`,
      `TETHER_API_KEY=${apiKey}`,
      'EOF',
      'sudo chmod 600 /etc/tether/agent.env',
      '# The hardened unit from the Tether repository (infra/systemd/tether-agent.service):',
      'sudo cp tether-agent.service /etc/systemd/system/',
      'sudo mkdir -p /etc/systemd/system/tether-agent.service.d',
      "sudo tee /etc/systemd/system/tether-agent.service.d/pool.conf >/dev/null <<'EOF'",
      '[Service]',
      'ExecStart=',
      `ExecStart=/opt/tether/venv/bin/tether agent start --pool ${systemdQuote(pool)} --work-dir /var/lib/tether`,
      'EOF',
      'sudo systemctl daemon-reload && sudo systemctl enable --now tether-agent',
      'journalctl -u tether-agent -f',
    ].join('\n'),
  };
}

/** The commands for `method`; without `apiKey` they hold a placeholder for the reader to replace. */
export function installSnippet(
  method: InstallMethod,
  pool: { name: string; type: WorkPoolType },
  apiUrl: string,
  apiKey?: string,
): InstallSnippet {
  const key = apiKey ?? KEY_PLACEHOLDER;
  switch (method) {
    case 'pip':
      return pipSnippet(pool.name, apiUrl, apiKey);
    case 'container':
      return containerSnippet(pool.name, apiUrl, key, pool.type);
    case 'kubernetes':
      return kubernetesSnippet(pool.name, apiUrl, key, pool.type);
    case 'systemd':
      return systemdSnippet(pool.name, apiUrl, key);
  }
}
