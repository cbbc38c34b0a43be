import { and, asc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { preparedOnce } from '../prepared.ts';
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

/**
 * By name, in any case, as Exchange matches an Identity (`default` finds `Default`); a policy
 * whose name matches exactly comes first, should two differ only in case.
 */
export async function findPolicyByName(db: Db, tenantId: string, name: string): Promise<OutboundSpamPolicy | undefined> {
  const [row] = await db
    .select()
    .from(outboundSpamPolicies)
    .where(and(eq(outboundSpamPolicies.tenantId, tenantId), sql`lower(${outboundSpamPolicies.name}) = lower(${name})`))
    .orderBy(sql`${outboundSpamPolicies.name} = ${name} desc`)
    .limit(1);
  return row;
}

export async function findPolicyById(db: Db, tenantId: string, id: string): Promise<OutboundSpamPolicy | undefined> {
  const [row] = await db
    .select()
    .from(outboundSpamPolicies)
    .where(and(eq(outboundSpamPolicies.tenantId, tenantId), eq(outboundSpamPolicies.id, id)));
  return row;
}

export type NewOutboundSpamRule = typeof outboundSpamRules.$inferInsert;
export type PolicyChanges = Partial<Pick<NewOutboundSpamPolicy, 'recipientLimitExternalPerHour' | 'recipientLimitInternalPerHour' | 'recipientLimitPerDay' | 'actionWhenThresholdReached' | 'notifyOutboundSpamRecipients'>>;
export type RuleChanges = Partial<Omit<NewOutboundSpamRule, 'id' | 'tenantId' | 'policyId' | 'name' | 'createdAt'>>;

/** Serialises policy and rule edits of one tenant until the transaction ends (priorities stay contiguous). */
export async function lockTenantPolicies(tx: Db, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`sendguard:policies:${tenantId}`}, 0))`);
}

export async function insertPolicy(tx: Db, values: NewOutboundSpamPolicy): Promise<OutboundSpamPolicy> {
  const [row] = await tx.insert(outboundSpamPolicies).values(values).returning();
  if (!row) throw new Error('policy insert returned no row');
  return row;
}

export async function updatePolicy(tx: Db, id: string, changes: PolicyChanges & { updatedAt: Date }): Promise<OutboundSpamPolicy | undefined> {
  const [row] = await tx.update(outboundSpamPolicies).set(changes).where(eq(outboundSpamPolicies.id, id)).returning();
  return row;
}

export async function deletePolicy(tx: Db, id: string): Promise<void> {
  await tx.delete(outboundSpamPolicies).where(eq(outboundSpamPolicies.id, id));
}

export async function findPoliciesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<OutboundSpamPolicy[]> {
  if (ids.length === 0) return [];
  const statement = preparedOnce(db, 'policies.byIds', () =>
    db
      .select()
      .from(outboundSpamPolicies)
      .where(and(eq(outboundSpamPolicies.tenantId, sql.placeholder('tenantId')), sql`${outboundSpamPolicies.id} = any(${sql.placeholder('ids')}::uuid[])`))
      .prepare('policies.byIds'),
  );
  return statement.execute({ tenantId, ids: [...ids] });
}

/** By name, in any case, as `findPolicyByName`. */
export async function findRuleByName(db: Db, tenantId: string, name: string): Promise<OutboundSpamRule | undefined> {
  const [row] = await db
    .select()
    .from(outboundSpamRules)
    .where(and(eq(outboundSpamRules.tenantId, tenantId), sql`lower(${outboundSpamRules.name}) = lower(${name})`))
    .orderBy(sql`${outboundSpamRules.name} = ${name} desc`)
    .limit(1);
  return row;
}

export async function findRulesByPolicyIds(db: Db, tenantId: string, policyIds: readonly string[]): Promise<OutboundSpamRule[]> {
  if (policyIds.length === 0) return [];
  return db.select().from(outboundSpamRules).where(and(eq(outboundSpamRules.tenantId, tenantId), anyOf(outboundSpamRules.policyId, policyIds)));
}

export async function findRulesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<OutboundSpamRule[]> {
  if (ids.length === 0) return [];
  return db.select().from(outboundSpamRules).where(and(eq(outboundSpamRules.tenantId, tenantId), anyOf(outboundSpamRules.id, ids)));
}

export async function countRules(db: Db, tenantId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(outboundSpamRules).where(eq(outboundSpamRules.tenantId, tenantId));
  return Number(row?.n ?? 0);
}

/**
 * Adds `delta` to the priority of the tenant's rules within [from, to]. The unique index on
 * (tenant_id, priority) is checked per row, so the rows first move to distinct negative values
 * and then back, never colliding mid-statement.
 */
export async function shiftRulePriorities(tx: Db, tenantId: string, range: { from: number; to: number }, delta: number): Promise<void> {
  const p = outboundSpamRules.priority;
  await tx
    .update(outboundSpamRules)
    .set({ priority: sql`-(${p} + ${delta}) - 1` })
    .where(and(eq(outboundSpamRules.tenantId, tenantId), gte(p, range.from), lte(p, range.to)));
  await tx
    .update(outboundSpamRules)
    .set({ priority: sql`-${p} - 1` })
    .where(and(eq(outboundSpamRules.tenantId, tenantId), lt(p, 0)));
}

export async function insertRule(tx: Db, values: NewOutboundSpamRule): Promise<OutboundSpamRule> {
  const [row] = await tx.insert(outboundSpamRules).values(values).returning();
  if (!row) throw new Error('rule insert returned no row');
  return row;
}

export async function updateRule(tx: Db, id: string, changes: RuleChanges): Promise<OutboundSpamRule | undefined> {
  const [row] = await tx.update(outboundSpamRules).set(changes).where(eq(outboundSpamRules.id, id)).returning();
  return row;
}

export async function deleteRule(tx: Db, id: string): Promise<void> {
  await tx.delete(outboundSpamRules).where(eq(outboundSpamRules.id, id));
}
