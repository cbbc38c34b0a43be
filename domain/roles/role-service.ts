import type { Db } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import {
  deleteRoleAssignment,
  findRoleAssignment,
  findRoleAssignmentsByIds,
  insertRoleAssignment,
  listRoleAssignments,
  tenantAccess,
  type RoleAssignment,
} from '../../db/repos/role-assignments.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../clock.ts';
import type { StoredEvent } from '../events/event-types.ts';
import { uuidsOnly } from '../ids.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { recognizeRole, type RoleName } from './role-catalog.ts';

export interface RoleAssignmentCommand {
  tenantId: string;
  /** Entra object id or user principal name; stored lower-cased. */
  principalId: string;
  role: string;
  actor: Actor;
}

const MAX_PRINCIPAL = 256;

/** Appended with every role change, so every process drops the roles it reused at once. */
export const ROLE_ASSIGNMENTS_CHANGED = 'RoleAssignmentsChanged';

async function recordRoleChange(tx: Db, cmd: RoleAssignmentCommand, principalId: string, role: RoleName, change: 'assigned' | 'removed', at: Date): Promise<void> {
  await appendEvent(tx, {
    tenantId: cmd.tenantId, type: ROLE_ASSIGNMENTS_CHANGED, entityKind: 'principal', entityKey: principalId,
    payload: { role, change, actorId: cmd.actor.id, actorName: cmd.actor.name }, occurredAt: at,
  });
}

/** `new`: a principal being granted a role may not hold control characters; one granted before still has its roles removed. */
function parseCommand(cmd: RoleAssignmentCommand, options: { new?: boolean } = {}): { principalId: string; role: RoleName } {
  const principalId = cmd.principalId.trim().toLowerCase();
  if (principalId.length === 0 || principalId.length > MAX_PRINCIPAL || /\s/.test(principalId) || (options.new && /\p{Cc}/u.test(principalId))) {
    throw new ValidationError('principalId', `principalId must be an object id or user principal name of at most ${MAX_PRINCIPAL} characters`);
  }
  const role = recognizeRole(cmd.role);
  if (!role) throw new ValidationError('role', `${cmd.role} is not a role Sendguard knows`);
  return { principalId, role };
}

/**
 * How long a principal's stored roles are reused without asking the database again. Every API
 * request needs them; a change made through this service applies at once, one made by another
 * process when its RoleAssignmentsChanged event arrives, and within this time should it not.
 */
export const ROLE_CACHE_MS = 5_000;
const ROLE_CACHE_ENTRIES = 10_000;

interface Access {
  tenantExists: boolean;
  /** The tenant's id as stored: an Entra tenant id asked about in another case finds it too. */
  tenantId: string;
  roles: RoleName[];
}

/** Roles granted inside Sendguard (in addition to token claims). Granting is restricted by the API's scopes. */
export function createRoleService(deps: { db: Db; clock: Clock; events?: { subscribe(handler: (event: StoredEvent) => void): () => void } }) {
  const { db, clock } = deps;
  const cached = new Map<string, { until: number; access: Access }>();
  // Bumped by every change, so a lookup that raced with one is not cached.
  let generation = 0;
  const changed = (): void => {
    generation++;
    cached.clear();
  };
  deps.events?.subscribe((event) => {
    if (event.type === ROLE_ASSIGNMENTS_CHANGED) changed();
  });

  /** Grants a role; granting one the principal already has returns it and writes nothing. */
  async function assign(cmd: RoleAssignmentCommand): Promise<{ assignment: RoleAssignment; created: boolean }> {
    const { principalId, role } = parseCommand(cmd, { new: true });
    return db.transaction(async (tx) => {
      const at = clock.now();
      const inserted = await insertRoleAssignment(tx, { tenantId: cmd.tenantId, principalId, role, createdBy: cmd.actor.name, createdAt: at });
      if (!inserted) {
        const existing = await findRoleAssignment(tx, cmd.tenantId, principalId, role);
        if (!existing) throw new Error(`role assignment of ${principalId} vanished`);
        return { assignment: existing, created: false };
      }
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Add-RoleGroupMember', targetKind: 'roleAssignment', target: `${principalId}:${role}`, before: null, after: inserted, at });
      await recordRoleChange(tx, cmd, principalId, role, 'assigned', at);
      return { assignment: inserted, created: true };
    }).finally(changed);
  }

  async function remove(cmd: RoleAssignmentCommand): Promise<RoleAssignment> {
    const { principalId, role } = parseCommand(cmd);
    return db.transaction(async (tx) => {
      const at = clock.now();
      const removed = await deleteRoleAssignment(tx, cmd.tenantId, principalId, role);
      if (!removed) throw new NotFoundError('role assignment', `${principalId}:${role}`);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Remove-RoleGroupMember', targetKind: 'roleAssignment', target: `${principalId}:${role}`, before: removed, after: null, at });
      await recordRoleChange(tx, cmd, principalId, role, 'removed', at);
      return removed;
    }).finally(changed);
  }

  /**
   * Whether the tenant is served here and the catalog roles stored for any of the principal's ids.
   * Reused for ROLE_CACHE_MS; an unknown tenant is asked about every time.
   */
  async function access(tenantId: string, principalIds: readonly string[]): Promise<Access> {
    const ids = principalIds.map((p) => p.toLowerCase());
    const key = JSON.stringify([tenantId, ...ids]);
    const now = performance.now();
    const hit = cached.get(key);
    if (hit && hit.until > now) return { ...hit.access, roles: [...hit.access.roles] };
    const asked = generation;
    const found = await tenantAccess(db, tenantId, ids);
    const roles = found.roles.map(recognizeRole).filter((r): r is RoleName => r !== undefined);
    const access = { tenantExists: found.tenantId !== null, tenantId: found.tenantId ?? tenantId, roles };
    if (access.tenantExists && asked === generation) {
      cached.delete(key);
      if (cached.size >= ROLE_CACHE_ENTRIES) cached.delete(cached.keys().next().value as string);
      cached.set(key, { until: now + ROLE_CACHE_MS, access: { ...access, roles: [...roles] } });
    }
    return access;
  }

  /** A page by principal and role; `after` is the id of the last assignment of the previous page. */
  async function list(tenantId: string, page: { first: number; after?: string }): Promise<RoleAssignment[]> {
    if (page.after === undefined) return listRoleAssignments(db, tenantId, { first: page.first });
    const [after] = await findRoleAssignmentsByIds(db, tenantId, uuidsOnly([page.after]));
    if (!after) throw new ValidationError('after', 'after names no role assignment (removed since?): list again from the first page');
    return listRoleAssignments(db, tenantId, { first: page.first, after });
  }

  return {
    assign,
    remove,
    access,
    list,
    byIds: (tenantId: string, ids: readonly string[]) => findRoleAssignmentsByIds(db, tenantId, uuidsOnly(ids)),
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
