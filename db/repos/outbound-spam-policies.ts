import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { outboundSpamPolicies, outboundSpamRules } from '../schema/outbound-spam-policies.ts';

export type OutboundSpamPolicy = typeof outboundSpamPolicies.$inferSelect;
export type OutboundSpamRule = typeof outboundSpamRules.$inferSelect;
export type NewOutboundSpamPolicy = typeof outboundSpamPolicies.$inferInsert;

export const DEFAULT_POLICY_NAME = 'Default';

export async function insertDefaultPolicyIfMissing(tx: Db, tenantId: string): Promise<void> {
  await tx
    .insert(outboundSpamPolicies)
    .values({ tenantId, name: DEFAULT_POLICY_NAME, isDefault: true, actionWhenThresholdReached: 'BlockUserForToday' })
    .onConflictDoNothing();
}

export async function listPolicies(db: Db, tenantId: string): Promise<OutboundSpamPolicy[]> {
  return db.select().from(outboundSpamPolicies).where(eq(outboundSpamPolicies.tenantId, tenantId)).orderBy(asc(outboundSpamPolicies.name));
}

export async function listRules(db: Db, tenantId: string): Promise<OutboundSpamRule[]> {
  return db.select().from(outboundSpamRules).where(eq(outboundSpamRules.tenantId, tenantId)).orderBy(asc(outboundSpamRules.priority));
}

export async function findPolicyByName(db: Db, tenantId: string, name: string): Promise<OutboundSpamPolicy | undefined> {
  const [row] = await db
    .select()
    .from(outboundSpamPolicies)
    .where(and(eq(outboundSpamPolicies.tenantId, tenantId), eq(outboundSpamPolicies.name, name)));
  return row;
}
