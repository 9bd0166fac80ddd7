import { apiDelete, apiGet, apiPatch, apiPost } from './client';
import { wsPath, type WorkspaceRef } from './tenancy';
import type {
  BlockDocument,
  BlockDocumentCreateRequest,
  BlockReveal,
  BlockType,
  Page,
  WorkspaceAccess,
} from './types';

/** What the server shows in place of a secret value; sending it back keeps the stored value. */
export const SECRET_MASK = '********';

export function fetchBlockTypes(ref: WorkspaceRef): Promise<Page<BlockType>> {
  return apiGet<Page<BlockType>>(wsPath(ref, 'block-types/', { page_size: 200 }));
}

export function fetchBlocks(ref: WorkspaceRef): Promise<Page<BlockDocument>> {
  return apiGet<Page<BlockDocument>>(wsPath(ref, 'blocks/', { page_size: 200 }));
}

export function fetchBlock(ref: WorkspaceRef, id: string): Promise<BlockDocument> {
  return apiGet<BlockDocument>(wsPath(ref, `blocks/${id}/`));
}

export function createBlock(ref: WorkspaceRef, body: BlockDocumentCreateRequest): Promise<BlockDocument> {
  return apiPost<BlockDocument>(wsPath(ref, 'blocks/'), body);
}

export function updateBlock(
  ref: WorkspaceRef,
  id: string,
  body: { name?: string; data?: Record<string, unknown> },
): Promise<BlockDocument> {
  return apiPatch<BlockDocument>(wsPath(ref, `blocks/${id}/`), body);
}

export function deleteBlock(ref: WorkspaceRef, id: string): Promise<void> {
  return apiDelete(wsPath(ref, `blocks/${id}/`));
}

export function revealBlock(ref: WorkspaceRef, id: string): Promise<BlockReveal> {
  return apiPost<BlockReveal>(wsPath(ref, `blocks/${id}/reveal/`));
}

/** The caller's role and effective scopes here, so pages offer only what the server allows. */
export function fetchWorkspaceAccess(ref: WorkspaceRef): Promise<WorkspaceAccess> {
  return apiGet<WorkspaceAccess>(wsPath(ref, 'access/'));
}
