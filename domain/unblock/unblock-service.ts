import type { UnblockQuotaSettings } from '../../config/load-config.ts';
import type { Db } from '../../db/client.ts';
import {
  decideReleaseRequest,
  endRestriction,
  findActiveRestriction,
  findPendingReleaseRequest,
  insertRelease,
  insertReleaseRequest,
  listEntityRestrictions,
  releasesSince,
  type EntityKind,
  type Release,
  type Restriction,
} from '../../db/repos/restrictions.ts';
import { getTenantSettings } from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import { nextUtcMidnight, type Clock } from '../clock.ts';
import { expireRestriction, normalizeEntityKey, recordRestrictionChange, releasedEvent } from '../restrictions/restriction-service.ts';
import { recommendationKinds, type RecommendationKind } from '../restrictions/recommendations.ts';
import {
  NotRestrictedError,
  SecondApprovalRequiredError,
  UnblockQuotaExceededError,
  ValidationError,
  type ReleaseError,
} from '../restrictions/errors.ts';

export interface ReleaseCommand {
  tenantId: string;
  entityKind: EntityKind;
  entityKey: string;
  reason: string;
  acknowledgedRecommendations: readonly string[];
  actor: Actor;
}

export type ReleaseResult = { ok: true; restriction: Restriction; release: Release } | { ok: false; error: ReleaseError };

const DAY_MS = 86_400_000;
const MAX_REASON = 1000;

function validate(cmd: ReleaseCommand): ValidationError | undefined {
  if (cmd.reason.length > MAX_REASON) return new ValidationError('reason', `reason must be at most ${MAX_REASON} characters`);
  const unknown = cmd.acknowledgedRecommendations.find((k) => !(recommendationKinds as readonly string[]).includes(k));
  if (unknown) return new ValidationError('acknowledgedRecommendations', `unknown recommendation ${unknown}`);
  return undefined;
}

/** Limit-triggered restrictions do not come back for the rest of the UTC day once an admin releases them. */
function limitExemptUntil(r: Restriction, now: Date): Date | null {
  return r.reasonCode === 'SendingLimitExceeded' ? nextUtcMidnight(now) : null;
}

export function createUnblockService(deps: { db: Db; clock: Clock; quota: UnblockQuotaSettings }) {
  const { db, clock } = deps;

  async function quotaDecision(tx: Db, cmd: ReleaseCommand, active: Restriction, now: Date): Promise<{ error?: ReleaseError; approvedBy?: string }> {
    const settings = await getTenantSettings(tx, cmd.tenantId);
    const max = settings?.unblockQuota ?? deps.quota.maxReleases;
    const windowDays = settings?.unblockQuotaWindowDays ?? deps.quota.windowDays;
    if (max === 0 || cmd.entityKind !== 'user') return {};
    const recent = await releasesSince(tx, active, new Date(now.getTime() - windowDays * DAY_MS));
    if (recent.length < max) return {};
    if (!settings?.requireSecondApproval) {
      const oldest = recent[recent.length - max] ?? recent[0];
      const resetsAt = new Date((oldest?.releasedAt ?? now).getTime() + windowDays * DAY_MS);
      return { error: new UnblockQuotaExceededError(active.entityKey, recent.length, max, windowDays, resetsAt) };
    }
    return secondApproval(tx, cmd, active, now);
  }

  async function secondApproval(tx: Db, cmd: ReleaseCommand, active: Restriction, now: Date): Promise<{ error?: ReleaseError; approvedBy?: string }> {
    const pending = await findPendingReleaseRequest(tx, active.id);
    if (pending && pending.requestedBy !== cmd.actor.id) {
      await decideReleaseRequest(tx, pending.id, { status: 'Approved', by: cmd.actor.id, at: now });
      return { approvedBy: cmd.actor.name };
    }
    const request =
      pending ??
      (await insertReleaseRequest(tx, {
        tenantId: cmd.tenantId,
        restrictionId: active.id,
        requestedBy: cmd.actor.id,
        requestedByName: cmd.actor.name,
        reason: cmd.reason,
        acknowledgedRecommendations: [...cmd.acknowledgedRecommendations],
        createdAt: now,
      }));
    return { error: new SecondApprovalRequiredError(active.entityKey, request?.requestedByName ?? cmd.actor.name, request?.createdAt ?? now) };
  }

  async function notRestricted(tx: Db, cmd: ReleaseCommand, key: string): Promise<ReleaseResult> {
    const [last] = await listEntityRestrictions(tx, { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: key }, 1);
    return { ok: false, error: new NotRestrictedError(cmd.entityKind, key, last?.id ?? null) };
  }

  /**
   * Releases (unblocks) an entity. Idempotent: a second release finds nothing active and is a
   * typed NotRestricted result with nothing written. The release row, its audit record and its
   * event commit together.
   */
  async function release(cmd: ReleaseCommand): Promise<ReleaseResult> {
    const invalid = validate(cmd);
    if (invalid) return { ok: false, error: invalid };
    const key = normalizeEntityKey(cmd.entityKind, cmd.entityKey);
    return db.transaction(async (tx) => {
      const now = clock.now();
      const active = await findActiveRestriction(tx, { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: key }, { forUpdate: true });
      if (!active) return notRestricted(tx, cmd, key);
      if (active.temporary && active.expiresAt && active.expiresAt <= now) {
        await expireRestriction(tx, active, now, cmd.actor);
        return notRestricted(tx, cmd, key);
      }
      const decision = await quotaDecision(tx, cmd, active, now);
      if (decision.error) return { ok: false, error: decision.error };
      const released = await endRestriction(tx, active.id, { status: 'Released', at: now, releasedBy: cmd.actor.name, releaseReason: cmd.reason });
      if (!released) return notRestricted(tx, cmd, key);
      const release = await insertRelease(tx, {
        tenantId: cmd.tenantId,
        restrictionId: active.id,
        entityKind: cmd.entityKind,
        entityKey: key,
        actorId: cmd.actor.id,
        actorName: cmd.actor.name,
        actorRoles: cmd.actor.roles,
        approvedBy: decision.approvedBy ?? null,
        reason: cmd.reason,
        acknowledgedRecommendations: [...new Set(cmd.acknowledgedRecommendations)] as RecommendationKind[],
        releasedAt: now,
        limitExemptUntil: limitExemptUntil(active, now),
      });
      await recordRestrictionChange(tx, { type: releasedEvent[cmd.entityKind], action: 'Delisted', before: active, after: released, actor: cmd.actor, at: now, reason: cmd.reason });
      return { ok: true, restriction: released, release };
    });
  }

  return { release };
}

export type UnblockService = ReturnType<typeof createUnblockService>;
