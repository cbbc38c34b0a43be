import type { UnblockQuotaSettings } from '../../config/load-config.ts';
import { transactionOrDryRun, type Db } from '../../db/client.ts';
import {
  decideReleaseRequest,
  endRestriction,
  findActiveRestriction,
  findPendingReleaseRequest,
  findRestrictionById,
  insertRelease,
  insertReleaseRequest,
  listEntityRestrictions,
  releasesForEntities,
  releasesSince,
  type EntityKind,
  type Release,
  type ReleaseRequest,
  type Restriction,
} from '../../db/repos/restrictions.ts';
import { getTenantSettings, type TenantSettings } from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { nextUtcMidnight, type Clock } from '../clock.ts';
import { expireRestriction, normalizeEntityKey, recordRestrictionChange, releasedEvent } from '../restrictions/restriction-service.ts';
import type { RecommendationKind } from '../restrictions/recommendations.ts';
import {
  NotRestrictedError,
  RestrictionChangedError,
  SecondApprovalRequiredError,
  UnblockQuotaExceededError,
  ValidationError,
  type ReleaseError,
} from '../restrictions/errors.ts';
import { uuidsOnly } from '../ids.ts';
import { senderKeyError } from '../policies/policy-validation.ts';
import { releaseInputError } from './release-validation.ts';

export interface ReleaseCommand {
  tenantId: string;
  entityKind: EntityKind;
  entityKey: string;
  reason: string;
  acknowledgedRecommendations: readonly string[];
  actor: Actor;
  /** Release only if this is still the active restriction (a card clicked late must not release a newer one). */
  expectedRestrictionId?: string | null | undefined;
  /** Decide as a release would and write nothing (not even a request for a second approval). */
  dryRun?: boolean | undefined;
}

/** How much of the unblock quota an entity has used in the rolling window. */
export interface UnblockQuota {
  entityKey: string;
  /** Releases inside the window. */
  used: number;
  /** At most this many releases in the window; null when the tenant has no quota. */
  limit: number | null;
  windowDays: number;
  /** When the next release is possible if the quota is used up, else when the oldest counted release leaves the window; null when none is counted. */
  resetsAt: Date | null;
}

export type ReleaseResult = { ok: true; restriction: Restriction; release: Release } | { ok: false; error: ReleaseError };

/** Whether the quota lets the release go ahead: a refusal, or the first admin's request a second one approves. */
type QuotaDecision = { error?: ReleaseError; approved?: ReleaseRequest };

const DAY_MS = 86_400_000;

function validate(cmd: ReleaseCommand): ValidationError | undefined {
  return senderKeyError(cmd.entityKind === 'user' ? 'senderAddress' : 'connectorId', cmd.entityKey) ?? releaseInputError(cmd);
}

/** Limit-triggered restrictions do not come back for the rest of the UTC day once an admin releases them. */
function limitExemptUntil(r: Restriction, now: Date): Date | null {
  return r.reasonCode === 'SendingLimitExceeded' ? nextUtcMidnight(now) : null;
}

/** The quota from the releases inside the window, oldest first. */
function quotaUsage(entityKey: string, max: number, windowDays: number, recent: readonly Pick<Release, 'releasedAt'>[]): UnblockQuota {
  const used = recent.length;
  const counted = max > 0 && used >= max ? recent[used - max] : recent[0];
  const resetsAt = counted ? new Date(counted.releasedAt.getTime() + windowDays * DAY_MS) : null;
  return { entityKey, used, limit: max > 0 ? max : null, windowDays, resetsAt };
}

/** Whose request a second admin's release approved, as the release's audit record keeps it. */
function approvalDetails(request: ReleaseRequest) {
  return { requestedById: request.requestedBy, requestedBy: request.requestedByName, requestedAt: request.createdAt.toISOString(), reason: request.reason };
}

export function createUnblockService(deps: { db: Db; clock: Clock; quota: UnblockQuotaSettings }) {
  const { db, clock } = deps;

  const quotaSettings = (settings: TenantSettings | undefined) => ({
    max: settings?.unblockQuota ?? deps.quota.maxReleases,
    windowDays: settings?.unblockQuotaWindowDays ?? deps.quota.windowDays,
  });

  async function quotaDecision(tx: Db, cmd: ReleaseCommand, active: Restriction, now: Date): Promise<QuotaDecision> {
    const settings = await getTenantSettings(tx, cmd.tenantId);
    const { max, windowDays } = quotaSettings(settings);
    if (max === 0 || cmd.entityKind !== 'user') return {};
    const recent = await releasesSince(tx, active, new Date(now.getTime() - windowDays * DAY_MS));
    if (recent.length < max) return {};
    if (!settings?.requireSecondApproval) {
      const usage = quotaUsage(active.entityKey, max, windowDays, recent);
      return { error: new UnblockQuotaExceededError(active.entityKey, usage.used, max, windowDays, usage.resetsAt ?? now) };
    }
    return secondApproval(tx, cmd, active, now);
  }

  /** Each sender's unblock quota now, in the order asked: one read of the settings and one of the releases. */
  async function quotas(tenantId: string, entityKind: EntityKind, entityKeys: readonly string[]): Promise<UnblockQuota[]> {
    const [settings, rows] = await Promise.all([getTenantSettings(db, tenantId), releasesForEntities(db, tenantId, entityKind, entityKeys)]);
    const { max, windowDays } = quotaSettings(settings);
    const since = clock.now().getTime() - windowDays * DAY_MS;
    // Newest first from the database; the quota counts oldest first.
    const recent = rows.filter((r) => r.releasedAt.getTime() > since).reverse();
    return entityKeys.map((key) => quotaUsage(key, max, windowDays, recent.filter((r) => r.entityKey === key)));
  }

  async function secondApproval(tx: Db, cmd: ReleaseCommand, active: Restriction, now: Date): Promise<QuotaDecision> {
    const pending = await findPendingReleaseRequest(tx, active.id);
    if (pending && pending.requestedBy !== cmd.actor.id) {
      await decideReleaseRequest(tx, pending.id, { status: 'Approved', by: cmd.actor.id, at: now });
      return { approved: pending };
    }
    const request = pending ?? (await requestRelease(tx, cmd, active, now));
    return { error: new SecondApprovalRequiredError(active.entityKey, request?.requestedByName ?? cmd.actor.name, request?.createdAt ?? now) };
  }

  /** Records the first admin's request for a second approval, audited as any admin's change is. */
  async function requestRelease(tx: Db, cmd: ReleaseCommand, active: Restriction, now: Date): Promise<ReleaseRequest | undefined> {
    const acknowledgedRecommendations = [...new Set(cmd.acknowledgedRecommendations)];
    const request = await insertReleaseRequest(tx, {
      tenantId: cmd.tenantId,
      restrictionId: active.id,
      requestedBy: cmd.actor.id,
      requestedByName: cmd.actor.name,
      reason: cmd.reason,
      acknowledgedRecommendations,
      createdAt: now,
    });
    if (request) {
      const details = { restrictionId: active.id, reason: cmd.reason, acknowledgedRecommendations };
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'RequestRelease', targetKind: active.entityKind, target: active.entityKey, details, at: now });
    }
    return request;
  }

  async function notRestricted(tx: Db, cmd: ReleaseCommand, key: string): Promise<ReleaseResult> {
    const [last] = await listEntityRestrictions(tx, { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: key }, 1);
    return { ok: false, error: new NotRestrictedError(cmd.entityKind, key, last?.id ?? null) };
  }

  /**
   * The id of the restriction the command names, as the database spells it (a uuid in capitals
   * names the same row). An id of another sender's restriction is a mistake in the request, not a
   * change of state; one that is not a uuid (a forged global id) names no restriction: asked of a
   * uuid column it would be a fault.
   */
  async function expectedRestrictionId(tx: Db, cmd: ReleaseCommand, key: string): Promise<string | ValidationError | undefined> {
    if (!cmd.expectedRestrictionId) return undefined;
    const [id] = uuidsOnly([cmd.expectedRestrictionId]);
    const named = id === undefined ? undefined : await findRestrictionById(tx, cmd.tenantId, id);
    if (named && named.entityKind === cmd.entityKind && named.entityKey === key) return named.id;
    return new ValidationError('restrictionId', `restrictionId is not the id of a restriction of ${key}`);
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
    // A refusal commits what it wrote (an expiry found late, a request for a second approval); a dry run nothing.
    return transactionOrDryRun(db, cmd.dryRun, async (tx) => {
      const now = clock.now();
      const expectedId = await expectedRestrictionId(tx, cmd, key);
      if (expectedId instanceof ValidationError) return { ok: false, error: expectedId };
      const active = await findActiveRestriction(tx, { tenantId: cmd.tenantId, entityKind: cmd.entityKind, entityKey: key }, { forUpdate: true });
      if (!active) return notRestricted(tx, cmd, key);
      if (active.temporary && active.expiresAt && active.expiresAt <= now) {
        await expireRestriction(tx, active, now);
        return notRestricted(tx, cmd, key);
      }
      if (expectedId && expectedId !== active.id) {
        return { ok: false, error: new RestrictionChangedError(cmd.entityKind, key, expectedId, active.id) };
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
        approvedBy: decision.approved ? cmd.actor.name : null,
        reason: cmd.reason,
        acknowledgedRecommendations: [...new Set(cmd.acknowledgedRecommendations)] as RecommendationKind[],
        releasedAt: now,
        limitExemptUntil: limitExemptUntil(active, now),
      });
      const approvalOf = decision.approved && approvalDetails(decision.approved);
      await recordRestrictionChange(tx, {
        type: releasedEvent[cmd.entityKind],
        action: 'Delisted',
        before: active,
        after: released,
        actor: cmd.actor,
        at: now,
        reason: cmd.reason,
        ...(approvalOf && { details: { approvalOf } }),
      });
      return { ok: true, restriction: released, release };
    });
  }

  return { release, quotas };
}

export type UnblockService = ReturnType<typeof createUnblockService>;
