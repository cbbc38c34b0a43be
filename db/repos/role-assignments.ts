import { and, asc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { roleAssignments } from '../schema/role-assignments.ts';
import { tenants } from '../schema/tenants.ts';

export type RoleAssignment = typeof roleAssignments.$inferSelect;
export type NewRoleAssignment = typeof roleAssignments.$inferInsert;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant as stored (null when not served here) and the roles stored for any of the principal's
 * ids, in one round trip. An Entra tenant id (a GUID) matches whatever its case: Teams and Entra
 * send them lower-case, while an id may have been configured upper-case. An exact match wins.
 */
export async function tenantAccess(db: Db, tenantId: string, principalIds: readonly string[]): Promise<{ tenantId: string | null; roles: string[] }> {
  const ids = principalIds.length > 0 ? [...principalIds] : [''];
  const rows = await db
    .select({ tenantId: tenants.id, role: roleAssignments.role })
    .from(tenants)
    .leftJoin(roleAssignments, and(eq(roleAssignments.tenantId, tenants.id), inArray(roleAssignments.principalId, ids)))
    .where(GUID.test(tenantId) ? sql`lower(${tenants.id}) = ${tenantId.toLowerCase()}` : eq(tenants.id, tenantId))
    .orderBy(sql`${tenants.id} = ${tenantId} desc`, asc(tenants.id));
  const stored = rows[0]?.tenantId ?? null;
  return { tenantId: stored, roles: rows.flatMap((r) => (r.tenantId === stored && r.role ? [r.role] : [])) };
}

/** By principal and role: the first `first` after the assignment of `after` (a principal and role), if given. */
export async function listRoleAssignments(db: Db, tenantId: string, page: { first: number; after?: Pick<RoleAssignment, 'principalId' | 'role'> }): Promise<RoleAssignment[]> {
  const { after } = page;
  const later = after && or(gt(roleAssignments.principalId, after.principalId), and(eq(roleAssignments.principalId, after.principalId), gt(roleAssignments.role, after.role)));
  return db
    .select()
    .from(roleAssignments)
    .where(and(eq(roleAssignments.tenantId, tenantId), later))
    .orderBy(asc(roleAssignments.principalId), asc(roleAssignments.role))
    .limit(page.first);
}

export async function findRoleAssignmentsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<RoleAssignment[]> {
  if (ids.length === 0) return [];
  return db.select().from(roleAssignments).where(and(eq(roleAssignments.tenantId, tenantId), anyOf(roleAssignments.id, ids)));
}

export async function findRoleAssignment(db: Db, tenantId: string, principalId: string, role: string): Promise<RoleAssignment | undefined> {
  const [row] = await db
    .select()
    .from(roleAssignments)
    .where(and(eq(roleAssignments.tenantId, tenantId), eq(roleAssignments.principalId, principalId), eq(roleAssignments.role, role)));
  return row;
}

/** Inserts unless the same assignment exists; returns the new row or undefined. */
export async function insertRoleAssignment(tx: Db, values: NewRoleAssignment): Promise<RoleAssignment | undefined> {
  const [row] = await tx.insert(roleAssignments).values(values).onConflictDoNothing().returning();
  return row;
}

export async function deleteRoleAssignment(tx: Db, tenantId: string, principalId: string, role: string): Promise<RoleAssignment | undefined> {
  const [row] = await tx
    .delete(roleAssignments)
    .where(and(eq(roleAssignments.tenantId, tenantId), eq(roleAssignments.principalId, principalId), eq(roleAssignments.role, role)))
    .returning();
  return row;
}
