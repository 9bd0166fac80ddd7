import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { createSla, deleteSla, fetchSlas, updateSla } from '../../api/slas';
import type { Sla, SlaWriteRequest } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { StatusPill } from '../../components/StatusPill';
import { useWorkspaceLink, useWorkspaceRef } from '../../workspace/workspace';
import { SlaEditor } from './SlaEditor';
import { browserTimeZone, describeSla, emptySlaForm, slaActionTypes, slaToForm } from './slaForm';

type Editing = { mode: 'closed' } | { mode: 'new' } | { mode: 'edit'; sla: Sla };

/** The deployment's SLAs: what each promises and does when missed; create, edit, pause, delete. */
export function SlasCard({ deploymentId }: { deploymentId: string }) {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Editing>({ mode: 'closed' });
  const slas = useQuery({ queryKey: ['slas', ref, deploymentId], queryFn: () => fetchSlas(ref, deploymentId) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['slas', ref, deploymentId] });
  const save = useMutation({
    mutationFn: (request: SlaWriteRequest) =>
      editing.mode === 'edit' ? updateSla(ref, editing.sla.id, request) : createSla(ref, request),
    onSuccess: async () => {
      setEditing({ mode: 'closed' });
      await refresh();
    },
  });

  function open(next: Editing) {
    save.reset();
    setEditing(next);
  }

  const rows = slas.data?.results ?? [];
  return (
    <Card
      title="SLAs"
      aside={
        editing.mode === 'closed' && (
          <Button variant="primary" onClick={() => open({ mode: 'new' })}>
            New SLA
          </Button>
        )
      }
    >
      {slas.isError && <ErrorNotice title="Could not load SLAs" error={slas.error} />}
      {slas.data && rows.length === 0 && editing.mode === 'closed' && (
        <p className="muted">No SLAs. Add one to hear about late, slow or missing runs of this deployment.</p>
      )}
      {rows.length > 0 && (
        <ul className="plain-list sla-list" aria-label="SLAs">
          {rows.map((sla) => (
            <SlaItem key={sla.id} sla={sla} onEdit={() => open({ mode: 'edit', sla })} onChanged={refresh} />
          ))}
        </ul>
      )}
      {editing.mode !== 'closed' && (
        <SlaEditor
          key={editing.mode === 'edit' ? editing.sla.id : 'new'}
          deploymentId={deploymentId}
          initial={editing.mode === 'edit' ? slaToForm(editing.sla, deploymentId) : emptySlaForm(deploymentId, browserTimeZone())}
          submitLabel={editing.mode === 'edit' ? `Save SLA ${editing.sla.name}` : 'Create SLA'}
          onSubmit={(request) => save.mutate(request)}
          onCancel={() => open({ mode: 'closed' })}
          pending={save.isPending}
          error={save.error}
        />
      )}
    </Card>
  );
}

function SlaItem({ sla, onEdit, onChanged }: { sla: Sla; onEdit: () => void; onChanged: () => Promise<void> }) {
  const ref = useWorkspaceRef();
  const link = useWorkspaceLink();
  const [confirming, setConfirming] = useState(false);
  const toggle = useMutation({ mutationFn: () => updateSla(ref, sla.id, { enabled: !sla.enabled }), onSuccess: onChanged });
  const remove = useMutation({ mutationFn: () => deleteSla(ref, sla.id), onSuccess: onChanged });
  return (
    <li aria-label={`SLA ${sla.name}`}>
      <div className="row-between">
        <span>
          <strong>{sla.name}</strong> · {describeSla(sla)}
          <span className="muted"> · then {slaActionTypes(sla)}</span>
          {sla.automation_id && (
            <>
              {' '}
              · <Link to={link(`automations/${sla.automation_id}`)}>firings</Link>
            </>
          )}
        </span>
        <span className="inline">
          <StatusPill tone={sla.enabled ? 'success' : 'neutral'}>{sla.enabled ? 'Enabled' : 'Paused'}</StatusPill>
          <Button onClick={() => toggle.mutate()} disabled={toggle.isPending}>
            {sla.enabled ? 'Pause' : 'Resume'} <span className="visually-hidden">SLA {sla.name}</span>
          </Button>
          <Button onClick={onEdit}>
            Edit <span className="visually-hidden">SLA {sla.name}</span>
          </Button>
          {confirming ? (
            <>
              <Button variant="primary" onClick={() => remove.mutate()} disabled={remove.isPending}>
                Delete SLA {sla.name}
              </Button>
              <Button onClick={() => setConfirming(false)}>Keep it</Button>
            </>
          ) : (
            <Button onClick={() => setConfirming(true)}>
              Delete… <span className="visually-hidden">SLA {sla.name}</span>
            </Button>
          )}
        </span>
      </div>
      {toggle.isError && <ErrorNotice title="Could not change the SLA" error={toggle.error} />}
      {remove.isError && <ErrorNotice title="Could not delete the SLA" error={remove.error} />}
    </li>
  );
}
