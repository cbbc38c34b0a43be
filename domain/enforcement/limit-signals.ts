import type { Db } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import type { RecordRecipientResult } from '../../db/repos/sending-counters.ts';
import { insertSendingWarning } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';
import type { SendingLimitEventPayload, SendingLimitEventType } from '../events/event-types.ts';
import type { EffectiveLimits } from '../policies/select-policy.ts';

export type PolicyLimit = 'RecipientLimitExternalPerHour' | 'RecipientLimitInternalPerHour' | 'RecipientLimitPerDay';

export interface LimitCount {
  limit: PolicyLimit;
  limitValue: number;
  count: number;
  internal: number;
  external: number;
  /** Hourly limits fire once per clock hour, the daily limit once per UTC day. */
  windowStart: Date;
}

const MAX_REMEMBERED = 100_000;

function truncate(at: Date, unit: 'hour' | 'day'): Date {
  const d = new Date(at);
  d.setUTCMinutes(0, 0, 0);
  if (unit === 'day') d.setUTCHours(0);
  return d;
}

/** The limits an accepted recipient counts against, with the counts after it. */
export function countsAfter(r: RecordRecipientResult, internal: boolean, limits: EffectiveLimits, now: Date): LimitCount[] {
  const hour: LimitCount = internal
    ? { limit: 'RecipientLimitInternalPerHour', limitValue: limits.internalPerHour, count: r.internalHour, internal: r.internalHour, external: r.externalHour, windowStart: truncate(now, 'hour') }
    : { limit: 'RecipientLimitExternalPerHour', limitValue: limits.externalPerHour, count: r.externalHour, internal: r.internalHour, external: r.externalHour, windowStart: truncate(now, 'hour') };
  const day: LimitCount = {
    limit: 'RecipientLimitPerDay',
    limitValue: limits.perDay,
    count: r.internalDay + r.externalDay,
    internal: r.internalDay,
    external: r.externalDay,
    windowStart: truncate(now, 'day'),
  };
  return [hour, day];
}

export interface SignalContext {
  tenantId: string;
  sender: string;
  policyName: string;
}

/**
 * "Sending limit nearly reached" and, under the Alert action, "Email sending limit exceeded":
 * each at most once per sender, limit and window, recorded in `sending_warnings` with its event.
 */
export function createLimitSignals(deps: { db: Db; clock: Clock; thresholdPercent: number }) {
  const remembered = new Set<string>();

  async function fire(ctx: SignalContext, c: LimitCount, type: SendingLimitEventType): Promise<void> {
    const limitType = type === 'SendingLimitExceeded' ? `${c.limit}/exceeded` : c.limit;
    const memo = `${ctx.tenantId}\u001f${ctx.sender}\u001f${limitType}\u001f${c.windowStart.getTime()}`;
    if (remembered.has(memo)) return;
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      const first = await insertSendingWarning(tx, { tenantId: ctx.tenantId, sender: ctx.sender, limitType, windowStart: c.windowStart, at: now });
      if (!first) return;
      const payload: SendingLimitEventPayload = {
        sender: ctx.sender,
        limit: c.limit,
        limitValue: c.limitValue,
        count: c.count,
        internalRecipientCount: c.internal,
        externalRecipientCount: c.external,
        policyName: ctx.policyName,
        ...(type === 'SendingLimitNearlyReached' ? { thresholdPercent: deps.thresholdPercent } : {}),
      };
      await appendEvent(tx, { tenantId: ctx.tenantId, type, entityKind: 'user', entityKey: ctx.sender, payload: { ...payload }, occurredAt: now });
    });
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.add(memo);
  }

  /** After an accepted recipient: warn about counts that passed the threshold but not the limit. */
  async function afterAccepted(ctx: SignalContext, counts: LimitCount[]): Promise<void> {
    for (const c of counts) {
      const threshold = Math.ceil((c.limitValue * deps.thresholdPercent) / 100);
      if (c.count >= threshold && c.count <= c.limitValue) await fire(ctx, c, 'SendingLimitNearlyReached');
    }
  }

  /** A recipient accepted over a policy limit because the policy only alerts. */
  async function overLimit(ctx: SignalContext, counts: LimitCount[], exceeded: string | null): Promise<void> {
    const c = counts.find((x) => x.limit === exceeded) ?? counts.find((x) => x.count > x.limitValue);
    if (c) await fire(ctx, c, 'SendingLimitExceeded');
  }

  return { afterAccepted, overLimit };
}

export type LimitSignals = ReturnType<typeof createLimitSignals>;
