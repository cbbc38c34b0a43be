import type { Db } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import {
  endRestriction,
  findActiveRestriction,
  insertActiveRestriction,
  type EntityKind,
  type EntityRef,
  type Restriction,
} from '../../db/repos/restrictions.ts';
import { systemActor, type Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../clock.ts';
import type { RestrictionEventPayload, RestrictionEventType } from '../events/event-types.ts';
import { canonicalAddress } from '../mail-address.ts';

export const reasonCodes = ['SendingLimitExceeded', 'ServiceRecipientLimit', 'SuspectedCompromise', 'ManualBlock'] as const;
export type ReasonCode = (typeof reasonCodes)[number];

export interface RestrictCommand {
  tenantId: string;
  entityKind: EntityKind;
  entityKey: string;
  reasonCode: ReasonCode;
  exceededLimit?: string | null;
  limitValue?: number | null;
  internalRecipientCount?: number;
  externalRecipientCount?: number;
  lastMessageRecipientCount?: number | null;
  policy?: { id: string | null; name: string; action: string } | null;
  details?: string | null;
  temporary: boolean;
  expiresAt?: Date | null;
  actor: Actor;
}

export interface RestrictResult {
  restriction: Restriction;
  /** false when the entity was already restricted: nothing was written. */
  created: boolean;
}

const restrictedEvent: Record<EntityKind, RestrictionEventType> = { user: 'UserRestricted', connector: 'ConnectorRestricted' };
export const releasedEvent: Record<EntityKind, RestrictionEventType> = { user: 'UserReleased', connector: 'ConnectorReleased' };

export function eventPayload(r: Restriction, actor: Actor, reason?: string | null): RestrictionEventPayload {
  return {
    restrictionId: r.id,
    entityKind: r.entityKind,
    entityKey: r.entityKey,
    reasonCode: r.reasonCode,
    exceededLimit: r.exceededLimit,
    limitValue: r.limitValue,
    internalRecipientCount: r.internalRecipientCount,
    externalRecipientCount: r.externalRecipientCount,
    policyName: r.policyName,
    temporary: r.temporary,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    actorId: actor.id,
    actorName: actor.name,
    reason: reason ?? null,
  };
}

/** Audit record and event for a state change, in the caller's transaction. */
export async function recordRestrictionChange(
  tx: Db,
  change: {
    type: RestrictionEventType;
    action: 'Listed' | 'Delisted';
    before: Restriction | null;
    after: Restriction;
    actor: Actor;
    at: Date;
    reason?: string | null;
    /** More for the audit record only. */
    details?: Record<string, unknown>;
    /** When the event is published, if later than `at`: catch-ups find where to start by event time. */
    publishedAt?: Date;
  },
): Promise<void> {
  const { after, actor, at } = change;
  await recordAudit(tx, {
    tenantId: after.tenantId,
    actor,
    action: change.action,
    targetKind: after.entityKind,
    target: after.entityKey,
    before: change.before,
    after,
    details: { event: change.type, reason: change.reason ?? null, ...change.details },
    at,
  });
  await appendEvent(tx, {
    tenantId: after.tenantId,
    type: change.type,
    entityKind: after.entityKind,
    entityKey: after.entityKey,
    payload: { ...eventPayload(after, actor, change.reason) },
    occurredAt: change.publishedAt ?? at,
  });
}

/** A user's key is its canonical address, so every spelling of it finds the one restriction. */
export function normalizeEntityKey(kind: EntityKind, key: string): string {
  return kind === 'user' ? canonicalAddress(key) : key.trim().toLowerCase();
}

/** Who ends a temporary restriction: the block ends by itself, whoever finds it over. */
export const expiryActor = systemActor('scheduler');

/**
 * Marks an active temporary restriction whose time is up as Expired (inside the caller's
 * transaction). Whether the sweep finds it or a release or restriction comes first, it ended by
 * itself at its expiresAt: recorded as the scheduler's, at that time.
 */
export async function expireRestriction(tx: Db, r: Restriction, now: Date): Promise<Restriction | undefined> {
  const at = r.expiresAt && r.expiresAt < now ? r.expiresAt : now;
  const ended = await endRestriction(tx, r.id, { status: 'Expired', at, releaseReason: 'The temporary block ended.' });
  if (ended) await recordRestrictionChange(tx, { type: 'RestrictionExpired', action: 'Delisted', before: r, after: ended, actor: expiryActor, at, publishedAt: now });
  return ended;
}

export function createRestrictionService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  /** Restricts an entity. Concurrent calls for one entity yield exactly one active restriction. */
  async function restrict(cmd: RestrictCommand): Promise<RestrictResult> {
    const ref: EntityRef = { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: normalizeEntityKey(cmd.entityKind, cmd.entityKey) };
    return db.transaction(async (tx) => {
      const now = clock.now();
      const existing = await findActiveRestriction(tx, ref, { forUpdate: true });
      if (existing && !(existing.temporary && existing.expiresAt && existing.expiresAt <= now)) return { restriction: existing, created: false };
      if (existing) await expireRestriction(tx, existing, now);
      const inserted = await insertActiveRestriction(tx, {
        ...ref,
        reasonCode: cmd.reasonCode,
        exceededLimit: cmd.exceededLimit ?? null,
        limitValue: cmd.limitValue ?? null,
        internalRecipientCount: cmd.internalRecipientCount ?? 0,
        externalRecipientCount: cmd.externalRecipientCount ?? 0,
        lastMessageRecipientCount: cmd.lastMessageRecipientCount ?? null,
        policyId: cmd.policy?.id ?? null,
        policyName: cmd.policy?.name ?? null,
        action: cmd.policy?.action ?? null,
        details: cmd.details ?? null,
        temporary: cmd.temporary,
        expiresAt: cmd.temporary ? (cmd.expiresAt ?? null) : null,
        createdBy: cmd.actor.name,
        createdAt: now,
        changedAt: now,
      });
      if (!inserted) {
        // Another transaction restricted the entity between our read and our insert.
        const winner = await findActiveRestriction(tx, ref);
        if (!winner) throw new Error(`restriction of ${ref.entityKey} vanished`);
        return { restriction: winner, created: false };
      }
      await recordRestrictionChange(tx, { type: restrictedEvent[ref.entityKind], action: 'Listed', before: null, after: inserted, actor: cmd.actor, at: now, reason: cmd.details });
      return { restriction: inserted, created: true };
    });
  }

  return { restrict };
}

export type RestrictionService = ReturnType<typeof createRestrictionService>;
