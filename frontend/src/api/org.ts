import { apiDelete, apiGet, apiPatch, apiPost } from './client';
import { orgPath, wsPath, type WorkspaceRef } from './tenancy';
import type {
  ApiKey,
  ApiKeyCreated,
  ApiKeyCreateRequest,
  AuditEntry,
  Invitation,
  InvitationCreateRequest,
  OrgMember,
  OrgRole,
  Page,
  ServiceAccount,
  WorkspaceMember,
  WorkspaceMemberCreateRequest,
  WorkspaceRole,
} from './types';

export function fetchOrgMembers(org: string): Promise<Page<OrgMember>> {
  return apiGet<Page<OrgMember>>(orgPath(org, 'members/', { page_size: 200 }));
}

export function changeOrgRole(org: string, memberId: string, role: OrgRole): Promise<OrgMember> {
  return apiPatch<OrgMember>(orgPath(org, `members/${memberId}/`), { role });
}

export function removeOrgMember(org: string, memberId: string): Promise<void> {
  return apiDelete(orgPath(org, `members/${memberId}/`));
}

export function fetchWorkspaceMembers(ref: WorkspaceRef): Promise<Page<WorkspaceMember>> {
  return apiGet<Page<WorkspaceMember>>(wsPath(ref, 'members/', { page_size: 200 }));
}

/** Gives a user or a service account a role in this workspace (409 if it already has one). */
export function addWorkspaceMember(ref: WorkspaceRef, body: WorkspaceMemberCreateRequest): Promise<WorkspaceMember> {
  return apiPost<WorkspaceMember>(wsPath(ref, 'members/'), body);
}

export function changeWorkspaceRole(ref: WorkspaceRef, memberId: string, role: WorkspaceRole): Promise<WorkspaceMember> {
  return apiPatch<WorkspaceMember>(wsPath(ref, `members/${memberId}/`), { role });
}

export function removeWorkspaceMember(ref: WorkspaceRef, memberId: string): Promise<void> {
  return apiDelete(wsPath(ref, `members/${memberId}/`));
}

export function fetchInvitations(org: string): Promise<Page<Invitation>> {
  return apiGet<Page<Invitation>>(orgPath(org, 'invitations/', { page_size: 200 }));
}

export function sendInvitation(org: string, body: InvitationCreateRequest): Promise<Invitation> {
  return apiPost<Invitation>(orgPath(org, 'invitations/'), body);
}

export function revokeInvitation(org: string, id: string): Promise<void> {
  return apiDelete(orgPath(org, `invitations/${id}/`));
}

export function fetchServiceAccounts(org: string): Promise<Page<ServiceAccount>> {
  return apiGet<Page<ServiceAccount>>(orgPath(org, 'service-accounts/', { page_size: 200 }));
}

export function createServiceAccount(org: string, name: string, description: string): Promise<ServiceAccount> {
  return apiPost<ServiceAccount>(orgPath(org, 'service-accounts/'), { name, description });
}

export function fetchApiKeys(org: string): Promise<Page<ApiKey>> {
  return apiGet<Page<ApiKey>>(orgPath(org, 'api-keys/', { page_size: 200 }));
}

/** The answer holds `secret`, which no later request returns. */
export function createApiKey(org: string, body: ApiKeyCreateRequest): Promise<ApiKeyCreated> {
  return apiPost<ApiKeyCreated>(orgPath(org, 'api-keys/'), body);
}

/** A `tether_sa_…` key of one service account; like `createApiKey`, only this answer holds `secret`. */
export function createServiceAccountApiKey(
  org: string,
  serviceAccountId: string,
  body: ApiKeyCreateRequest,
): Promise<ApiKeyCreated> {
  return apiPost<ApiKeyCreated>(orgPath(org, `service-accounts/${encodeURIComponent(serviceAccountId)}/api-keys/`), body);
}

export function revokeApiKey(org: string, id: string): Promise<void> {
  return apiDelete(orgPath(org, `api-keys/${id}/`));
}

export function fetchAuditLog(org: string, pageUrl?: string): Promise<Page<AuditEntry>> {
  return apiGet<Page<AuditEntry>>(pageUrl ?? orgPath(org, 'audit-log/'));
}
