import { and, asc, eq, inArray } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { roleAssignments } from '../schema/role-assignments.ts';
import { tenants } from '../schema/tenants.ts';

export type RoleAssignment = typeof roleAssignments.$inferSelect;
export type NewRoleAssignment = typeof roleAssignments.$inferInsert;

/** Whether the tenant exists and the roles stored for any of the principal's ids, in one round trip. */
export async function tenantAccess(db: Db, tenantId: string, principalIds: readonly string[]): Promise<{ tenantExists: boolean; roles: string[] }> {
  const ids = principalIds.length > 0 ? [...principalIds] : [''];
  const rows = await db
    .select({ tenantId: tenants.id, role: roleAssignments.role })
    .from(tenants)
    .leftJoin(roleAssignments, and(eq(roleAssignments.tenantId, tenants.id), inArray(roleAssignments.principalId, ids)))
    .where(eq(tenants.id, tenantId));
  return { tenantExists: rows.length > 0, roles: rows.flatMap((r) => (r.role ? [r.role] : [])) };
}

export async function listRoleAssignments(db: Db, tenantId: string): Promise<RoleAssignment[]> {
  return db
    .select()
    .from(roleAssignments)
    .where(eq(roleAssignments.tenantId, tenantId))
    .orderBy(asc(roleAssignments.principalId), asc(roleAssignments.role));
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
