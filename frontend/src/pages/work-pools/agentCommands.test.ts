import { describe, expect, it } from 'vitest';
import { buildPoolRequest, EMPTY_POOL_FORM, POOL_TYPES } from './poolTypes';
import { installSnippet, kubernetesName, shellQuote, systemdQuote } from './agentCommands';

const URL = 'https://tether.example/api/v1/orgs/acme/workspaces/prod';

describe('install snippets', () => {
  it('fills in the pool and URL for every method', () => {
    for (const method of ['pip', 'container', 'kubernetes', 'systemd'] as const) {
      const snippet = installSnippet(method, { name: 'main', type: 'process' }, URL);
      const text = `${snippet.commands}\n${snippet.file?.text ?? ''}`;
      expect(text).toContain(URL);
      expect(text).toMatch(/--pool|"main"/);
      expect(text).toContain('tether_sa_…');
    }
    expect(installSnippet('pip', { name: 'main', type: 'process' }, URL).commands).toContain('tether agent start --pool main');
    expect(installSnippet('container', { name: 'main', type: 'process' }, URL).commands).toContain(
      'tether/agent:0.1.0 start --pool main',
    );
    expect(installSnippet('systemd', { name: 'main', type: 'process' }, URL).commands).toContain(
      'ExecStart=/opt/tether/venv/bin/tether agent start --pool "main" --work-dir /var/lib/tether',
    );
  });

  it('writes a Deployment manifest for Kubernetes, with the Job rights only a kubernetes pool needs', () => {
    const plain = installSnippet('kubernetes', { name: 'Night Jobs', type: 'process' }, URL);
    expect(plain.file?.name).toBe('tether-agent-night-jobs.yaml');
    expect(plain.file?.text).toContain('kind: Deployment');
    expect(plain.file?.text).toContain('args: ["start", "--pool", "Night Jobs", "--work-dir"');
    expect(plain.file?.text).not.toContain('serviceAccountName');
    expect(plain.commands).toContain('kubectl -n tether apply -f tether-agent-night-jobs.yaml');
    const jobs = installSnippet('kubernetes', { name: 'k8s', type: 'kubernetes' }, URL);
    expect(jobs.file?.text).toContain('serviceAccountName: tether-agent');
    expect(jobs.note).toContain('infra/kubernetes/agent.yaml');
  });

  it('mounts the Docker socket for a docker pool only', () => {
    expect(installSnippet('container', { name: 'd', type: 'docker' }, URL).commands).toContain('/var/run/docker.sock');
    expect(installSnippet('container', { name: 'd', type: 'process' }, URL).commands).not.toContain('/var/run/docker.sock');
  });

  it('quotes names for the shell, systemd and Kubernetes', () => {
    expect(shellQuote('main-pool_1')).toBe('main-pool_1');
    expect(shellQuote("bob's pool")).toBe(`'bob'\\''s pool'`);
    expect(systemdQuote('a "b" $HOME \\x')).toBe('"a \\"b\\" $$HOME \\\\x"');
    expect(kubernetesName('--Ünïcode pool!--')).toBe('tether-agent-n-code-pool');
    expect(kubernetesName('***')).toBe('tether-agent-pool');
  });
});

describe('pool form', () => {
  it('offers the serverless types with their docs', () => {
    expect(POOL_TYPES.map((info) => info.type)).toEqual(['process', 'docker', 'kubernetes', 'ecs', 'cloud-run', 'aci']);
    expect(POOL_TYPES.find((info) => info.type === 'cloud-run')?.doc).toBe('pools-cloud-run.md');
  });

  it('builds the create request, or says what to fix', () => {
    expect(buildPoolRequest({ name: ' fargate ', type: 'ecs', description: '', concurrencyLimit: '5' })).toEqual({
      ok: true,
      request: { name: 'fargate', type: 'ecs', concurrency_limit: 5 },
    });
    expect(buildPoolRequest({ ...EMPTY_POOL_FORM, name: 'p', description: ' d ' })).toEqual({
      ok: true,
      request: { name: 'p', type: 'process', description: 'd', concurrency_limit: null },
    });
    const bad = buildPoolRequest({ ...EMPTY_POOL_FORM, name: 'a/b', concurrencyLimit: '1.5' });
    expect(!bad.ok && Object.keys(bad.errors).sort()).toEqual(['concurrencyLimit', 'name']);
  });
});
