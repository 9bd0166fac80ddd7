import { useCallback } from 'react';
import { useParams } from 'react-router';
import type { WorkspaceRef } from '../api/tenancy';

/** The org and workspace of the current URL (`/o/:org/w/:ws/...`). */
export function useWorkspaceRef(): WorkspaceRef {
  const { org, ws } = useParams();
  if (!org || !ws) throw new Error('useWorkspaceRef() used outside /o/:org/w/:ws');
  return { org, ws };
}

export function workspaceUrl(ref: WorkspaceRef, path = ''): string {
  return `/o/${encodeURIComponent(ref.org)}/w/${encodeURIComponent(ref.ws)}${path ? `/${path}` : ''}`;
}

/** Builds links inside the current workspace: `link('flow-runs/1')`. */
export function useWorkspaceLink(): (path?: string) => string {
  const ref = useWorkspaceRef();
  return useCallback((path = '') => workspaceUrl(ref, path), [ref.org, ref.ws]);
}
