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
                    <select
                      aria-label={`Organisation role of ${member.email}`}
                      className="field__input"
                      value={member.role}
                      onChange={(e) => orgRole.mutate({ id: member.id, role: e.target.value as OrgRole })}
                    >
                      {ORG_ROLES.map((role) => (
                        <option key={role}>{role}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <Button
                      onClick={() => {
                        if (window.confirm(`Remove ${member.email} from the organisation?`)) removeOrg.mutate(member.id);
                      }}
                    >
                      Remove <span className="visually-hidden">{member.email}</span>
                    </Button>
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
                    <select
                      aria-label={`Workspace role of ${member.display_name}`}
                      className="field__input"
                      value={member.role}
                      onChange={(e) => wsRole.mutate({ id: member.id, role: e.target.value as WorkspaceRole })}
                    >
                      {WORKSPACE_ROLES.map((role) => (
                        <option key={role}>{role}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <Button
                      onClick={() => {
                        if (window.confirm(`Remove ${member.display_name} from this workspace?`)) removeWs.mutate(member.id);
                      }}
                    >
                      Remove <span className="visually-hidden">{member.display_name}</span>
                    </Button>
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
