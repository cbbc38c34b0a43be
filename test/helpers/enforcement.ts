import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { outboundSpamPolicies, outboundSpamRules } from '../../db/schema/outbound-spam-policies.ts';

type Action = 'BlockUser' | 'BlockUserForToday' | 'Alert';

export interface PolicyLimits {
  externalPerHour?: number;
  internalPerHour?: number;
  perDay?: number;
  action?: Action;
}

function values(l: PolicyLimits) {
  return {
    recipientLimitExternalPerHour: l.externalPerHour ?? 0,
    recipientLimitInternalPerHour: l.internalPerHour ?? 0,
    recipientLimitPerDay: l.perDay ?? 0,
    actionWhenThresholdReached: l.action ?? 'BlockUserForToday',
  };
}

/** Sets the limits and action of the tenant's default policy. */
export async function setDefaultPolicy(database: Database, tenantId: string, limits: PolicyLimits): Promise<void> {
  await database.db
    .update(outboundSpamPolicies)
    .set(values(limits))
    .where(and(eq(outboundSpamPolicies.tenantId, tenantId), eq(outboundSpamPolicies.isDefault, true)));
}

/** A custom policy with its rule (conditions as in Exchange: from, fromMemberOf, senderDomainIs). */
export async function addPolicyWithRule(
  database: Database,
  tenantId: string,
  spec: PolicyLimits & { name: string; priority: number; from?: string[]; fromMemberOf?: string[]; senderDomainIs?: string[]; enabled?: boolean },
): Promise<string> {
  const [policy] = await database.db.insert(outboundSpamPolicies).values({ tenantId, name: spec.name, ...values(spec) }).returning();
  if (!policy) throw new Error('policy insert failed');
  await database.db.insert(outboundSpamRules).values({
    tenantId,
    policyId: policy.id,
    name: `${spec.name} rule`,
    priority: spec.priority,
    enabled: spec.enabled ?? true,
    from: spec.from ?? [],
    fromMemberOf: spec.fromMemberOf ?? [],
    senderDomainIs: spec.senderDomainIs ?? [],
  });
  return policy.id;
}
