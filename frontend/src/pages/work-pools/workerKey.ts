/**
 * Issuing an agent's key from the "Add agent" panel, through the same public endpoints the
 * Settings pages use: a service account (new, or reused by name) with the worker role in this
 * workspace, then a `tether_sa_…` key bound to the workspace.
 */
import {
  addWorkspaceMember,
  createServiceAccount,
  createServiceAccountApiKey,
  fetchServiceAccounts,
  fetchWorkspaceMembers,
} from '../../api/org';
import type { WorkspaceRef } from '../../api/tenancy';
import type { ApiKeyCreated, OrgRole, Profile, ServiceAccount } from '../../api/types';

/** Org roles whose scopes include `service_accounts:write` (and owner rights in every workspace). */
const ROLES_THAT_MANAGE_SERVICE_ACCOUNTS: ReadonlySet<string> = new Set<OrgRole>(['owner', 'admin']);

const NAME_MAX = 100;

export function canIssueWorkerKeys(me: Profile | undefined, org: string): boolean {
  const role = me?.organizations.find((membership) => membership.slug === org)?.role;
  return role !== undefined && ROLES_THAT_MANAGE_SERVICE_ACCOUNTS.has(role);
}

export function defaultAccountName(poolName: string): string {
  return `agent-${poolName}`.slice(0, NAME_MAX);
}

/** Why a reused account cannot carry an agent's key; the server would accept it but the agent would fail. */
class WorkerKeyRefused extends Error {
  override readonly name = 'WorkerKeyRefused';
}

export interface IssuedWorkerKey {
  account: ServiceAccount;
  key: ApiKeyCreated;
  /** False when an existing account of that name was reused. */
  createdAccount: boolean;
}

async function findOrCreateAccount(org: string, name: string, poolName: string) {
  const existing = (await fetchServiceAccounts(org)).results.find((account) => account.name === name);
  if (existing) {
    if (!existing.is_active) throw new WorkerKeyRefused(`The service account "${name}" is inactive: pick another name.`);
    return { account: existing, createdAccount: false };
  }
  const account = await createServiceAccount(org, name, `Agent for the work pool ${poolName}`.slice(0, 500));
  return { account, createdAccount: true };
}

async function ensureWorkerRole(ref: WorkspaceRef, account: ServiceAccount): Promise<void> {
  const members = await fetchWorkspaceMembers(ref);
  const membership = members.results.find(
    (member) => member.kind === 'service_account' && member.principal_id === account.id,
  );
  if (!membership) {
    await addWorkspaceMember(ref, { service_account_id: account.id, role: 'worker' });
    return;
  }
  if (membership.role !== 'worker') {
    throw new WorkerKeyRefused(
      `"${account.name}" has the ${membership.role} role in this workspace, not worker: pick another name, or change its role in Settings → Members.`,
    );
  }
}

export async function issueWorkerKey(ref: WorkspaceRef, accountName: string, poolName: string): Promise<IssuedWorkerKey> {
  const name = accountName.trim().slice(0, NAME_MAX);
  const { account, createdAccount } = await findOrCreateAccount(ref.org, name, poolName);
  await ensureWorkerRole(ref, account);
  const key = await createServiceAccountApiKey(ref.org, account.id, {
    name: `agent ${poolName}`.slice(0, NAME_MAX),
    workspace: ref.ws,
  });
  return { account, key, createdAccount };
}
