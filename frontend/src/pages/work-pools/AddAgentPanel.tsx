import { useId, useRef, useState, type KeyboardEvent } from 'react';
import type { WorkPool } from '../../api/types';
import { Card } from '../../components/Card';
import { CopyButton } from '../../components/CopyButton';
import { useWorkspaceRef } from '../../workspace/workspace';
import { INSTALL_METHODS, installSnippet, type InstallMethod } from './agentCommands';
import { WorkerKeySection } from './WorkerKeySection';
import type { IssuedWorkerKey } from './workerKey';

/** A worker key, issued here, and copy-paste commands to start an agent for a pool (pip, container, Kubernetes, systemd). */
export function AddAgentPanel({ pool, onClose }: { pool: WorkPool; onClose: () => void }) {
  const { org, ws } = useWorkspaceRef();
  const apiUrl = `${window.location.origin}/api/v1/orgs/${org}/workspaces/${ws}`;
  const [method, setMethod] = useState<InstallMethod>('pip');
  const [issued, setIssued] = useState<IssuedWorkerKey | null>(null);
  const baseId = useId();
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const snippet = installSnippet(method, pool, apiUrl, issued?.key.secret);

  // Arrow keys move between tabs, as in the WAI-ARIA tabs pattern.
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = INSTALL_METHODS.findIndex((item) => item.method === method);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = (index + step + INSTALL_METHODS.length) % INSTALL_METHODS.length;
    const target = INSTALL_METHODS[next];
    if (!target) return;
    setMethod(target.method);
    tabs.current[next]?.focus();
  }

  return (
    <Card
      title={`Add an agent to ${pool.name}`}
      aside={
        <button type="button" className="theme-toggle" onClick={onClose}>
          Close
        </button>
      }
    >
      <p>
        Run these inside your network with a worker-role service-account key. The agent only dials out: no inbound port
        is needed.
      </p>
      <WorkerKeySection poolName={pool.name} issued={issued} onIssued={setIssued} />
      <div className="tabs" role="tablist" aria-label="How to run the agent" onKeyDown={onKeyDown}>
        {INSTALL_METHODS.map((item, index) => (
          <button
            key={item.method}
            ref={(element) => {
              tabs.current[index] = element;
            }}
            type="button"
            role="tab"
            id={`${baseId}-${item.method}-tab`}
            className="tabs__tab"
            aria-selected={item.method === method}
            aria-controls={`${baseId}-panel`}
            tabIndex={item.method === method ? 0 : -1}
            onClick={() => setMethod(item.method)}
          >
            {item.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${baseId}-panel`} aria-labelledby={`${baseId}-${method}-tab`}>
        <pre className="code-block" aria-label="Install commands">
          {snippet.commands}
        </pre>
        <CopyButton text={snippet.commands} label="Copy commands" />
        {snippet.file && (
          <>
            <h3>{snippet.file.name}</h3>
            <pre className="code-block" aria-label={snippet.file.name}>
              {snippet.file.text}
            </pre>
            <CopyButton text={snippet.file.text} label="Copy manifest" />
          </>
        )}
        {snippet.note && <p className="muted">{snippet.note}</p>}
      </div>
    </Card>
  );
}
