import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  changeOrgRole,
  changeWorkspaceRole,
  fetchOrgMembers,
  fetchWorkspaceMembers,
  removeOrgMember,
  removeWorkspaceMember,
} from '../../api/org';
import { ORG_ROLES, WORKSPACE_ROLES, type OrgRole, type WorkspaceRole } from '../../api/types';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useWorkspaceRef } from '../../workspace/workspace';

export function MembersSection() {
  const ref = useWorkspaceRef();
  const queryClient = useQueryClient();
  const orgMembers = useQuery({ queryKey: ['org-members', ref.org], queryFn: () => fetchOrgMembers(ref.org) });
  const wsMembers = useQuery({ queryKey: ['ws-members', ref], queryFn: () => fetchWorkspaceMembers(ref) });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['org-members', ref.org] }),
      queryClient.invalidateQueries({ queryKey: ['ws-members', ref] }),
    ]);

  const orgRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: OrgRole }) => changeOrgRole(ref.org, id, role),
    onSuccess: refresh,
  });
  const wsRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: WorkspaceRole }) => changeWorkspaceRole(ref, id, role),
    onSuccess: refresh,
  });
  const removeOrg = useMutation({ mutationFn: (id: string) => removeOrgMember(ref.org, id), onSuccess: refresh });
  const removeWs = useMutation({ mutationFn: (id: string) => removeWorkspaceMember(ref, id), onSuccess: refresh });
  const failure = orgRole.error ?? wsRole.error ?? removeOrg.error ?? removeWs.error;

  return (
    <>
      <Card title="Organisation members">
        {orgMembers.isError && <ErrorNotice title="Could not load members" error={orgMembers.error} />}
        {failure && <ErrorNotice title="The change was refused" error={failure} />}
        {orgMembers.data && (
          <table className="table">
            <caption className="visually-hidden">Organisation members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Organisation role</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {orgMembers.data.results.map((member) => (
                <tr key={member.id}>
                  <td>
                    {member.name || member.email}
                    <div className="muted">{member.email}</div>
                  </td>
                  <td>
                    <RoleSelect
                      label={`Organisation role of ${member.email}`}
                      value={member.role}
                      roles={ORG_ROLES}
                      onChange={(role) => orgRole.mutate({ id: member.id, role })}
                    />
                  </td>
                  <td>
                    <RemoveButton
                      who={member.email}
                      question={`Remove ${member.email} from the organisation?`}
                      onConfirm={() => removeOrg.mutate(member.id)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Workspace members">
        {wsMembers.isError && <ErrorNotice title="Could not load workspace members" error={wsMembers.error} />}
        {wsMembers.data && (
          <table className="table">
            <caption className="visually-hidden">Workspace members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Kind</th>
                <th scope="col">Workspace role</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {wsMembers.data.results.map((member) => (
                <tr key={member.id}>
                  <td>{member.display_name}</td>
                  <td>{member.kind}</td>
                  <td>
                    <RoleSelect
                      label={`Workspace role of ${member.display_name}`}
                      value={member.role}
                      roles={WORKSPACE_ROLES}
                      onChange={(role) => wsRole.mutate({ id: member.id, role })}
                    />
                  </td>
                  <td>
                    <RemoveButton
                      who={member.display_name}
                      question={`Remove ${member.display_name} from this workspace?`}
                      onConfirm={() => removeWs.mutate(member.id)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function RoleSelect<R extends string>({
  label,
  value,
  roles,
  onChange,
}: {
  label: string;
  value: R;
  roles: readonly R[];
  onChange: (role: R) => void;
}) {
  return (
    <select aria-label={label} className="field__input" value={value} onChange={(e) => onChange(e.target.value as R)}>
      {roles.map((role) => (
        <option key={role}>{role}</option>
      ))}
    </select>
  );
}

function RemoveButton({ who, question, onConfirm }: { who: string; question: string; onConfirm: () => void }) {
  return (
    <Button
      onClick={() => {
        if (window.confirm(question)) onConfirm();
      }}
    >
      Remove <span className="visually-hidden">{who}</span>
    </Button>
  );
}
