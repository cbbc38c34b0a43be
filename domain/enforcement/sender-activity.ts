import type { ServiceLimits } from '../../config/load-config.ts';
import type { Db } from '../../db/client.ts';
import { findActiveRestriction, type Restriction } from '../../db/repos/restrictions.ts';
import { senderCounts, type SenderCounts } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';
import { canonicalAddress } from '../mail-address.ts';
import { describeChoice, resolveLimits, type MatchedCondition, type PolicyAction } from '../policies/select-policy.ts';
import type { TenantDirectory } from './tenant-directory.ts';

export interface LimitUsage {
  limit: 'RecipientLimitExternalPerHour' | 'RecipientLimitInternalPerHour' | 'RecipientLimitPerDay' | 'ServiceRecipientsPerDay' | 'MessagesPerMinute';
  /** The limit that applies (a policy's 0 already replaced by the service default). */
  value: number;
  count: number;
  /** True when the value is the service's, not the policy's own. */
  serviceDefault: boolean;
}

/** Counts per window against the limits that apply, which policy and why, and any active restriction. */
export interface SenderActivity {
  sender: string;
  policy: { id: string; name: string; isDefault: boolean; action: PolicyAction };
  /** The rule that selected the policy; null for the default policy. */
  rule: { id: string; name: string; priority: number } | null;
  matchedConditions: MatchedCondition[];
  /** A sentence saying why the policy applies. */
  appliesBecause: string;
  counts: SenderCounts;
  usage: LimitUsage[];
  /** Recipients per message (over it: 452 4.5.3). */
  recipientsPerMessage: number;
  restricted: boolean;
  restriction: Restriction | null;
}

export function createSenderActivity(deps: { db: Db; clock: Clock; limits: ServiceLimits; directory: TenantDirectory }) {
  /**
   * What enforcement currently sees for an address: counts in the rolling windows (the same
   * windows enforcement uses), the policy that applies and why, and the active restriction if any.
   */
  async function getSenderActivity(tenantId: string, senderAddress: string): Promise<SenderActivity> {
    const sender = canonicalAddress(senderAddress);
    const now = deps.clock.now();
    const tenant = await deps.directory.snapshot(tenantId);
    const choice = tenant.choose(sender);
    const effective = resolveLimits(choice.policy, deps.limits);
    const [counts, active] = await Promise.all([
      senderCounts(deps.db, tenantId, sender, now),
      findActiveRestriction(deps.db, { tenantId, entityKind: 'user', entityKey: sender }),
    ]);
    const restriction = active && !(active.expiresAt && active.expiresAt <= now) ? active : null;
    const p = choice.policy;
    const day = counts.internalLast24Hours + counts.externalLast24Hours;
    return {
      sender,
      policy: { id: p.id, name: p.name, isDefault: p.isDefault, action: p.actionWhenThresholdReached },
      rule: choice.rule,
      matchedConditions: choice.matched,
      appliesBecause: describeChoice(choice),
      counts,
      usage: [
        { limit: 'RecipientLimitExternalPerHour', value: effective.externalPerHour, count: counts.externalLastHour, serviceDefault: p.recipientLimitExternalPerHour === 0 },
        { limit: 'RecipientLimitInternalPerHour', value: effective.internalPerHour, count: counts.internalLastHour, serviceDefault: p.recipientLimitInternalPerHour === 0 },
        { limit: 'RecipientLimitPerDay', value: effective.perDay, count: day, serviceDefault: p.recipientLimitPerDay === 0 },
        { limit: 'ServiceRecipientsPerDay', value: deps.limits.recipientsPerDay, count: counts.allLast24Hours, serviceDefault: true },
        { limit: 'MessagesPerMinute', value: deps.limits.messagesPerMinute, count: counts.messagesThisMinute, serviceDefault: true },
      ],
      recipientsPerMessage: deps.limits.recipientsPerMessage,
      restricted: restriction !== null,
      restriction,
    };
  }

  return { getSenderActivity };
}
