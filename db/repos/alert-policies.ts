import { and, asc, eq, sql } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { alertPolicies } from '../schema/alerts.ts';

export type AlertPolicy = typeof alertPolicies.$inferSelect;
export type NewAlertPolicy = typeof alertPolicies.$inferInsert;

export async function insertAlertPoliciesIfMissing(tx: Db, policies: NewAlertPolicy[]): Promise<void> {
  if (policies.length === 0) return;
  await tx.insert(alertPolicies).values(policies).onConflictDoNothing();
}

export async function listAlertPolicies(db: Db, tenantId: string): Promise<AlertPolicy[]> {
  return db.select().from(alertPolicies).where(eq(alertPolicies.tenantId, tenantId)).orderBy(asc(alertPolicies.name));
}

export type AlertPolicyPatch = Partial<Pick<AlertPolicy, 'enabled' | 'emailEnabled' | 'recipients' | 'dailyNotificationLimit'>>;

/** The tenant's policies of one kind, enabled or not. */
export async function listAlertPoliciesOfKind(db: Db, tenantId: string, kind: AlertPolicy['kind']): Promise<AlertPolicy[]> {
  return db
    .select()
    .from(alertPolicies)
    .where(and(eq(alertPolicies.tenantId, tenantId), eq(alertPolicies.kind, kind)))
    .orderBy(asc(alertPolicies.name));
}

/** By id (a uuid) or by name, in any case (as Exchange matches an Identity; the names are the defaults', distinct in any case). */
export async function findAlertPolicy(db: Db, tenantId: string, idOrName: string, options: { forUpdate?: boolean } = {}): Promise<AlertPolicy | undefined> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
  const query = db
    .select()
    .from(alertPolicies)
    .where(and(eq(alertPolicies.tenantId, tenantId), byId ? eq(alertPolicies.id, idOrName) : sql`lower(${alertPolicies.name}) = lower(${idOrName})`));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function updateAlertPolicy(tx: Db, id: string, patch: AlertPolicyPatch, at: Date): Promise<AlertPolicy> {
  const [row] = await tx
    .update(alertPolicies)
    .set({ ...patch, updatedAt: at })
    .where(eq(alertPolicies.id, id))
    .returning();
  if (!row) throw new Error(`alert policy ${id} vanished`);
  return row;
}

export async function findAlertPoliciesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<AlertPolicy[]> {
  if (ids.length === 0) return [];
  return db.select().from(alertPolicies).where(and(eq(alertPolicies.tenantId, tenantId), anyOf(alertPolicies.id, ids)));
}
