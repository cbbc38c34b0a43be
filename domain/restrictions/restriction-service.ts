import type { Db } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import {
  endRestriction,
  extendRestriction,
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
  /** An admin's block: an active restriction that ends sooner is extended to this one's end. */
  extend?: boolean;
}

export interface RestrictResult {
  restriction: Restriction;
  /** false when the entity was already restricted: that restriction is returned. */
  created: boolean;
  /** true when that restriction ended sooner and now lasts as long as asked (`extend`). */
  extended: boolean;
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
    details: r.details,
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
    /** The active restriction was made to last longer. */
    extended?: boolean;
    /** The extending admin's free text, when the restriction keeps its own (a limit's). */
    adminDetails?: string | null;
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
    payload: {
      ...eventPayload(after, actor, change.reason),
      ...(change.adminDetails !== undefined ? { details: change.adminDetails } : {}),
      ...(change.extended ? { extended: true } : {}),
    },
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

/** Whether the command asks for a block that ends later than the active restriction does. */
function outlasts(cmd: RestrictCommand, active: Restriction): boolean {
  if (!active.temporary || !active.expiresAt) return false;
  return !cmd.temporary || !cmd.expiresAt || cmd.expiresAt > active.expiresAt;
}

/**
 * The active restriction, extended to the command's end when it asks to be and lasts longer:
 * one active restriction per entity, so the block is the same row, recorded with before and
 * after and published as a restriction event, so caches and policy servers follow it.
 */
async function keepOrExtend(tx: Db, active: Restriction, cmd: RestrictCommand, now: Date): Promise<RestrictResult> {
  if (!cmd.extend || !outlasts(cmd, active)) return { restriction: active, created: false, extended: false };
  // A limit restriction keeps its reason: when one is lifted, counting restarts and the sender is
  // spared limits for the rest of the day (both keyed on SendingLimitExceeded), so the counts that
  // led to it do not restrict it again as soon as an admin releases it. Any other (a service limit
  // that said it clears by itself, a shorter manual block) now rests on the admin's reason, and
  // no longer names a limit: alerts, notices and the Exchange view would say the limit was why.
  const why = active.reasonCode === 'SendingLimitExceeded' ? {} : { reasonCode: cmd.reasonCode, details: cmd.details ?? null, exceededLimit: null, limitValue: null };
  const expiresAt = cmd.temporary ? (cmd.expiresAt ?? null) : null;
  const extended = await extendRestriction(tx, active.id, { ...why, temporary: expiresAt !== null, expiresAt, changedAt: now });
  if (!extended) throw new Error(`restriction ${active.id} ended while locked`);
  const reason = cmd.details ? `${cmd.reasonCode}: ${cmd.details}` : cmd.reasonCode;
  await recordRestrictionChange(tx, { type: restrictedEvent[active.entityKind], action: 'Listed', before: active, after: extended, actor: cmd.actor, at: now, reason, extended: true, adminDetails: cmd.details ?? null });
  return { restriction: extended, created: false, extended: true };
}

export function createRestrictionService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  /** Restricts an entity. Concurrent calls for one entity yield exactly one active restriction. */
  async function restrict(cmd: RestrictCommand): Promise<RestrictResult> {
    const ref: EntityRef = { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: normalizeEntityKey(cmd.entityKind, cmd.entityKey) };
    return db.transaction(async (tx) => {
      const now = clock.now();
      const existing = await findActiveRestriction(tx, ref, { forUpdate: true });
      if (existing && !(existing.temporary && existing.expiresAt && existing.expiresAt <= now)) return keepOrExtend(tx, existing, cmd, now);
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
        const winner = await findActiveRestriction(tx, ref, { forUpdate: true });
        if (!winner) throw new Error(`restriction of ${ref.entityKey} vanished`);
        return keepOrExtend(tx, winner, cmd, now);
      }
      await recordRestrictionChange(tx, { type: restrictedEvent[ref.entityKind], action: 'Listed', before: null, after: inserted, actor: cmd.actor, at: now, reason: cmd.details });
      return { restriction: inserted, created: true, extended: false };
    });
  }

  return { restrict };
}

export type RestrictionService = ReturnType<typeof createRestrictionService>;
