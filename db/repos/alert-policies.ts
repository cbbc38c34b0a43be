import { asc, eq } from 'drizzle-orm';
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
