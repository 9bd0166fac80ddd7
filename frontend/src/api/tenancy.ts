import { apiGet, apiPost, withQuery, type QueryValue } from './client';
import type { OrgMember, Profile, Workspace } from './types';

/** The org and workspace a page works in; both come from the URL (`/o/:org/w/:ws/...`). */
export interface WorkspaceRef {
  org: string;
  ws: string;
}

export function orgPath(org: string, path = '', query: Record<string, QueryValue> = {}): string {
  return withQuery(`/api/v1/orgs/${encodeURIComponent(org)}/${path}`, query);
}

export function wsPath(ref: WorkspaceRef, path: string, query: Record<string, QueryValue> = {}): string {
  return orgPath(ref.org, `workspaces/${encodeURIComponent(ref.ws)}/${path}`, query);
}

export function fetchMe(): Promise<Profile> {
  return apiGet<Profile>('/api/v1/me/');
}

export function fetchWorkspaces(org: string): Promise<Workspace[]> {
  return apiGet<Workspace[]>(orgPath(org, 'workspaces/'));
}

export function acceptInvitation(token: string): Promise<OrgMember> {
  return apiPost<OrgMember>('/api/v1/invitations/accept/', { token });
}
