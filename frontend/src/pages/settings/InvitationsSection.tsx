import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { fetchInvitations, revokeInvitation, sendInvitation } from '../../api/org';
import { ORG_ROLES, WORKSPACE_ROLES, type OrgRole, type WorkspaceRole } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { formatDateTime } from '../../format/time';
import { useWorkspaceRef } from '../../workspace/workspace';

export function InvitationsSection() {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const orgRoleId = useId();
  const wsRoleId = useId();
  const [email, setEmail] = useState('');
  const [orgRole, setOrgRole] = useState<OrgRole>('member');
  const [wsRole, setWsRole] = useState<WorkspaceRole>('developer');
  const invitations = useQuery({ queryKey: ['invitations', ref.org], queryFn: () => fetchInvitations(ref.org) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['invitations', ref.org] });
  const send = useMutation({
    mutationFn: () =>
      sendInvitation(ref.org, { email: email.trim(), org_role: orgRole, workspace: ref.ws, workspace_role: wsRole }),
    onSuccess: async () => {
      setEmail('');
      await refresh();
    },
  });
  const revoke = useMutation({ mutationFn: (id: string) => revokeInvitation(ref.org, id), onSuccess: refresh });

  function submit(event: FormEvent) {
    event.preventDefault();
    send.mutate();
  }

  const pending = invitations.data?.results.filter((invitation) => invitation.status === 'pending') ?? [];

  return (
    <Card title="Invitations">
      <form className="form form--inline" onSubmit={submit} aria-label="Invite a member">
        <Field label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <div className="field">
          <label htmlFor={orgRoleId} className="field__label">
            Organisation role
          </label>
          <select id={orgRoleId} className="field__input" value={orgRole} onChange={(e) => setOrgRole(e.target.value as OrgRole)}>
            {ORG_ROLES.map((role) => (
              <option key={role}>{role}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={wsRoleId} className="field__label">
            Role in {ref.ws}
          </label>
          <select
            id={wsRoleId}
            className="field__input"
            value={wsRole}
            onChange={(e) => setWsRole(e.target.value as WorkspaceRole)}
          >
            {WORKSPACE_ROLES.map((role) => (
              <option key={role}>{role}</option>
            ))}
          </select>
        </div>
        <Button type="submit" variant="primary" disabled={send.isPending}>
          Send invitation
        </Button>
      </form>
      {send.isError && <ErrorNotice title="Could not send the invitation" error={send.error} />}
      {revoke.isError && <ErrorNotice title="Could not revoke the invitation" error={revoke.error} />}
      {pending.length === 0 && invitations.data && <p className="muted">No pending invitations.</p>}
      {pending.length > 0 && (
        <ul className="plain-list" aria-label="Pending invitations">
          {pending.map((invitation) => (
            <li key={invitation.id} className="row-between">
              <span>
                {invitation.email} · {invitation.org_role}
                {invitation.workspace && ` · ${invitation.workspace_role} in ${invitation.workspace}`}
                <span className="muted"> · expires {formatDateTime(invitation.expires_at)}</span>
              </span>
              <Button onClick={() => revoke.mutate(invitation.id)}>
                Revoke <span className="visually-hidden">invitation for {invitation.email}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
