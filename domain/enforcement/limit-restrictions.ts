import type { ServiceLimits } from '../../config/load-config.ts';
import type { Db } from '../../db/client.ts';
import { dayBuckets, type RecordRecipientResult } from '../../db/repos/sending-counters.ts';
import type { Actor } from '../actor.ts';
import { nextUtcMidnight } from '../clock.ts';
import type { EffectiveLimits, PolicyChoice } from '../policies/select-policy.ts';
import type { RestrictionService } from '../restrictions/restriction-service.ts';
import type { CachedRestriction } from './restriction-cache.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RestrictionContext {
  db: Db;
  identity: { tenantId: string; sender: string; counted: string };
  choice: PolicyChoice;
  limits: EffectiveLimits;
  service: ServiceLimits;
  now: Date;
  restrictions: Pick<RestrictionService, 'restrict'>;
  actor: Actor;
}

const limitWords: Record<string, string> = {
  RecipientLimitExternalPerHour: 'external recipients per hour',
  RecipientLimitInternalPerHour: 'internal recipients per hour',
  RecipientLimitPerDay: 'recipients per day',
};

export function limitValueOf(limit: string | null, limits: EffectiveLimits): number | null {
  if (limit === 'RecipientLimitExternalPerHour') return limits.externalPerHour;
  if (limit === 'RecipientLimitInternalPerHour') return limits.internalPerHour;
  if (limit === 'RecipientLimitPerDay') return limits.perDay;
  return null;
}

/**
 * The restriction a crossed limit stands on; `created` false when the sender was restricted
 * already (an admin, or another process, got there between the count and this restriction).
 */
export interface PlacedRestriction {
  restriction: CachedRestriction;
  created: boolean;
}

/** A policy limit was crossed and the policy restricts: BlockUser (until released) or BlockUserForToday. */
export async function restrictForLimit(ctx: RestrictionContext, r: RecordRecipientResult): Promise<PlacedRestriction> {
  const { policy } = ctx.choice;
  const limitValue = limitValueOf(r.exceededLimit, ctx.limits);
  const temporary = ctx.limits.action === 'BlockUserForToday';
  const { restriction, created } = await ctx.restrictions.restrict({
    tenantId: ctx.identity.tenantId,
    entityKind: 'user',
    entityKey: ctx.identity.counted,
    reasonCode: 'SendingLimitExceeded',
    exceededLimit: r.exceededLimit,
    limitValue,
    internalRecipientCount: r.internalDay,
    externalRecipientCount: r.externalDay,
    lastMessageRecipientCount: r.messageRecipients,
    policy: { id: policy.id, name: policy.name, action: ctx.limits.action },
    details: `Exceeded the limit of ${limitValue ?? '?'} ${limitWords[r.exceededLimit ?? ''] ?? r.exceededLimit} of outbound spam policy "${policy.name}" (${ctx.limits.action}).`,
    temporary,
    expiresAt: temporary ? nextUtcMidnight(ctx.now) : null,
    actor: ctx.actor,
  });
  return { restriction: { restrictionId: restriction.id, reasonCode: restriction.reasonCode, expiresAt: restriction.expiresAt }, created };
}

/**
 * When the rolling 24-hour window will have room for one more recipient: the oldest buckets
 * leave the window 24 hours after they started.
 */
export function windowFreesAt(buckets: { bucket: Date; recipients: number }[], limit: number, now: Date): Date {
  let remaining = buckets.reduce((sum, b) => sum + b.recipients, 0);
  for (const b of buckets) {
    remaining -= b.recipients;
    if (remaining <= limit - 1) return new Date(b.bucket.getTime() + DAY_MS);
  }
  return new Date(now.getTime() + MINUTE_MS);
}

/** The service's rolling 24-hour limit: a temporary restriction that clears by itself. */
export async function restrictForServiceLimit(ctx: RestrictionContext, r: RecordRecipientResult): Promise<PlacedRestriction> {
  const limit = ctx.service.recipientsPerDay;
  const minute = Math.floor(ctx.now.getTime() / MINUTE_MS) * MINUTE_MS;
  const buckets = await dayBuckets(ctx.db, ctx.identity.tenantId, ctx.identity.counted, new Date(minute - DAY_MS));
  const expiresAt = windowFreesAt(buckets, limit, ctx.now);
  const { restriction, created } = await ctx.restrictions.restrict({
    tenantId: ctx.identity.tenantId,
    entityKind: 'user',
    entityKey: ctx.identity.counted,
    reasonCode: 'ServiceRecipientLimit',
    exceededLimit: 'ServiceRecipientsPerDay',
    limitValue: limit,
    internalRecipientCount: r.internalDay,
    externalRecipientCount: r.externalDay,
    lastMessageRecipientCount: r.messageRecipients,
    policy: null,
    details: `Sent to ${r.internalDay + r.externalDay} recipients in the last 24 hours; the service limit is ${limit}. This restriction clears by itself at ${expiresAt.toISOString()}, when the rolling 24-hour window has room again.`,
    temporary: true,
    expiresAt,
    actor: ctx.actor,
  });
  return { restriction: { restrictionId: restriction.id, reasonCode: restriction.reasonCode, expiresAt: restriction.expiresAt }, created };
}
