import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceLimits } from '../../config/load-config.ts';
import type { Db } from '../../db/client.ts';
import { findActiveRestriction, findRestrictionById } from '../../db/repos/restrictions.ts';
import { markLeasesRecalled, type RecordRecipientInput, type RecordRecipientResult } from '../../db/repos/sending-counters.ts';
import { systemActor } from '../actor.ts';
import type { Clock } from '../clock.ts';
import type { StoredEvent } from '../events/event-types.ts';
import { settleWithin } from '../deadline.ts';
import { createFailureLog } from '../failure-log.ts';
import { createThrottledLog } from '../throttled-log.ts';
import { canonicalAddress, domainOf } from '../mail-address.ts';
import { resolveLimits, type EffectiveLimits, type PolicyChoice } from '../policies/select-policy.ts';
import type { RestrictionService } from '../restrictions/restriction-service.ts';
import { createConnectorGuard } from './connector-guard.ts';
import {
  accept,
  connectorRefused,
  databaseUnavailable,
  rateLimited,
  refusedOutboundSender,
  serviceLimitReached,
  tooManyRecipients,
  type Decision,
} from './decision.ts';
import { createEnforcementEvents } from './enforcement-events.ts';
import { countsAfter, createLimitSignals } from './limit-signals.ts';
import { restrictForLimit, restrictForServiceLimit, type RestrictionContext } from './limit-restrictions.ts';
import { createLeaseKeeper, defaultReportMs, LEASE_GRACE_MS } from './lease-keeper.ts';
import { NOT_LOADED } from './not-loaded.ts';
import type { LeaseRequest } from './quota-leases.ts';
import { createRecipientRecorder } from './recipient-recorder.ts';
import { createRestrictionCache, type CachedRestriction } from './restriction-cache.ts';
import { createSenderActivity } from './sender-activity.ts';
import { identityOf, needsSubmitterTenant, submissionOf, type Identity } from './sender-identity.ts';
import { createTenantDirectory, type TenantSnapshot } from './tenant-directory.ts';

export interface SenderCheck {
  /** Envelope sender (MAIL FROM); empty for bounces. */
  sender: string;
  /** The authenticated submitter; when present it is the counted and restricted identity. */
  saslUsername?: string | undefined;
  clientAddress?: string | undefined;
  /** The tenant the submitter authenticated to: counted there, and a sender of another tenant or of none is refused. */
  authenticatedTenantId?: string | undefined;
  /** The transport asking, recorded as the actor of any restriction it causes. */
  via?: 'policy' | 'smtp';
}

export interface RecipientCheck extends SenderCheck {
  recipient: string;
  /** Identifies the mail transaction (Postfix `instance`), so a retried request counts once. */
  instance?: string | undefined;
}

export interface EnforcementOptions {
  /** What to answer for a sender whose domain no tenant accepts. */
  unknownSender: 'accept' | 'reject';
  /** The domain a Postfix SASL login without one belongs to (see submissionOf); none: taken as it is. */
  saslLoginDomain?: string | undefined;
  /** What to answer while the database cannot be reached. */
  databaseUnavailable: 'defer' | 'accept';
  /** Longest a cached "restricted" is trusted without the database (≤ 1 s keeps the release promise). */
  restrictionCacheMs: number;
  warningThresholdPercent: number;
  /** How long tenant domains, policies, rules and groups are served from memory between reloads. */
  tenantCacheMs?: number;
  /**
   * Longest a check may wait for the database before answering as for an unavailable one, so
   * the MTA gets the configured reply well within its policy timeout (default 3 s).
   */
  requestTimeoutMs?: number;
  /** Counting calls to the database at once; recipients arriving meanwhile are counted together in the next call (default 2). */
  recordConcurrency?: number;
  /** Whether a counted recipient's commit is flushed before the answer (default true). */
  durableCounts?: boolean;
  /**
   * How long a quota lease lasts (default 2000 ms; 0 sends every recipient to the database).
   * Leases let a sender's ordinary recipients be answered from memory; see quota-leases.ts.
   */
  leaseMs?: number;
  /** Recipients asked for with a lease; the database grants at most half of what is left (default 64). */
  leaseRecipients?: number;
  /** How often the lease keeper looks for usage to write back (default: see `defaultReportMs`, 250 ms for 2 s leases). */
  leaseReportMs?: number;
  /** Lease reports settled per transaction (default SETTLE_CHUNK.postgres; see lease-keeper.ts). */
  leaseSettleChunk?: number;
}

export class DatabaseDeadlineError extends Error {
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
  }
}

export interface EnforcementLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EnforcementDeps {
  db: Db;
  clock: Clock;
  restrictions: Pick<RestrictionService, 'restrict'>;
  limits: ServiceLimits;
  options: EnforcementOptions;
  /** The event bus, so caches follow restriction and configuration changes made anywhere. */
  events?: { subscribe(handler: (event: StoredEvent) => void): () => void };
  /** LISTEN, so a lease another process needs back is settled at once rather than when it expires. */
  listen?: (channel: string, onNotify: (payload: string) => void) => Promise<() => Promise<void>>;
  logger?: EnforcementLogger;
}

/** Tenants whose policies a new process loads before its first request (the rest load on first use). */
const WARM_TENANTS = 100;

/**
 * Decides, for the MTA or the relay, whether a sender may send to a recipient: counts it exactly,
 * restricts on a crossed limit and answers with a transport-neutral decision. The request path
 * is served from memory plus one database round trip, shared with the recipients that arrive meanwhile.
 */
export function createEnforcementService(deps: EnforcementDeps) {
  const { db, clock, limits, options } = deps;
  const reloads = createFailureLog(deps.logger, 'enforcement cache reload');
  const onError = reloads.failed;
  const onReloaded = reloads.succeeded;
  const directory = createTenantDirectory({ db, clock, ttlMs: options.tenantCacheMs ?? 5000, onError, onReloaded });
  const restricted = createRestrictionCache({ clock, maxAgeMs: options.restrictionCacheMs });
  const connectors = createConnectorGuard({
    db,
    clock,
    maxAgeMs: Math.max(options.restrictionCacheMs, 100),
    onError,
    onReloaded,
    onInvalidRange: (connectorId, range) => deps.logger?.warn({ connectorId, range }, 'ignoring an invalid connector IP range'),
  });
  const leaseMs = options.leaseMs ?? 2000;
  const recorder = createRecipientRecorder(db, {
    maxInFlight: options.recordConcurrency,
    durable: options.durableCounts,
    leaseMs,
    leasePercent: options.warningThresholdPercent,
  });
  const reports = createFailureLog(deps.logger, 'quota lease report');
  const leases = createLeaseKeeper({
    db,
    clock,
    reportMs: options.leaseReportMs ?? defaultReportMs(leaseMs),
    extendMs: leaseMs,
    settleChunk: options.leaseSettleChunk,
    listen: deps.listen,
    onError: reports.failed,
    onReported: reports.succeeded,
  });
  const signals = createLimitSignals({ db, clock, thresholdPercent: options.warningThresholdPercent });
  // One read per restriction and process: a restriction changes only when an admin's block extends
  // it (a new end, perhaps a new reason), and its UserRestricted event then replaces the entry.
  const known = new Map<string, CachedRestriction>();
  const unsubscribe = deps.events?.subscribe(createEnforcementEvents({ directory, restricted, connectors, leases, known }));

  async function identify(check: SenderCheck): Promise<Identity | Decision> {
    const connector = await connectors.match(check.clientAddress);
    if (connector) return connectorRefused;
    const s = submissionOf(check, options.saslLoginDomain);
    const tenants = {
      sender: s.sender ? await directory.tenantOf(domainOf(s.sender)) : undefined,
      submitter: needsSubmitterTenant(s) ? await directory.tenantOf(domainOf(s.submitter)) : undefined,
    };
    return identityOf(s, tenants, options.unknownSender);
  }

  /** As `identify`, from memory alone; undefined when something is not loaded. */
  function identifyFromMemory(check: SenderCheck): Identity | Decision | undefined {
    const connector = connectors.matchLoaded(check.clientAddress);
    if (connector === NOT_LOADED) return undefined;
    if (connector) return connectorRefused;
    const s = submissionOf(check, options.saslLoginDomain);
    const sender = s.sender ? directory.tenantOfLoaded(domainOf(s.sender)) : undefined;
    const submitter = needsSubmitterTenant(s) ? directory.tenantOfLoaded(domainOf(s.submitter)) : undefined;
    if (sender === NOT_LOADED || submitter === NOT_LOADED) return undefined;
    return identityOf(s, { sender, submitter }, options.unknownSender);
  }

  function refusalFor(r: CachedRestriction, placedNow = false): Decision {
    const refusal = r.reasonCode === 'ServiceRecipientLimit' ? serviceLimitReached(limits.recipientsPerDay, r.expiresAt) : refusedOutboundSender('restricted');
    return { ...refusal, restriction: { id: r.restrictionId, placedNow, expiresAt: r.expiresAt } };
  }

  // A request past its deadline still finishes in the background; its recipient may then count
  // although the MTA was told to retry: over-counting is the safe side while the database struggles.
  function withDeadline(check: () => Promise<Decision>, what: string): Promise<Decision> {
    const ms = options.requestTimeoutMs ?? 3000;
    const late = (): never => {
      throw new DatabaseDeadlineError(ms);
    };
    return settleWithin(check(), ms, late).catch((err: unknown) => unavailable(err, what));
  }

  // One log line per 5 s while the database is down, with how many were not logged.
  const logUnavailable = createThrottledLog(deps.logger);
  function unavailable(err: unknown, what: string): Decision {
    logUnavailable({ err }, `${what} failed; answering as configured for an unavailable database`);
    return options.databaseUnavailable === 'accept' ? accept('database-unavailable') : databaseUnavailable;
  }

  function remember(id: Identity, r: CachedRestriction): CachedRestriction {
    if (known.size >= 10_000) known.clear();
    known.set(r.restrictionId, r);
    restricted.set(id.tenantId, id.counted, r);
    return r;
  }

  async function knownRestriction(id: Identity, restrictionId: string): Promise<Decision> {
    let entry = known.get(restrictionId);
    if (!entry) {
      const row = await findRestrictionById(db, id.tenantId, restrictionId);
      entry = { restrictionId, reasonCode: row?.reasonCode ?? 'SendingLimitExceeded', expiresAt: row?.expiresAt ?? null };
    }
    return refusalFor(remember(id, entry));
  }

  async function afterRecord(ctx: RestrictionContext, r: RecordRecipientResult, internal: boolean): Promise<Decision> {
    switch (r.outcome) {
      case 'restricted':
        return r.restrictionId ? knownRestriction(ctx.identity, r.restrictionId) : refusedOutboundSender('restricted');
      case 'duplicate':
        return accept('duplicate');
      case 'too_many_recipients':
        return tooManyRecipients;
      case 'rate_deferred':
        return rateLimited;
      case 'limit_restrict': {
        const { restriction, created } = await restrictForLimit(ctx, r);
        const placed = remember(ctx.identity, restriction);
        return { ...refusedOutboundSender('limit-restricted'), restriction: { id: placed.restrictionId, placedNow: created, expiresAt: placed.expiresAt } };
      }
      case 'service_limit': {
        const { restriction, created } = await restrictForServiceLimit(ctx, r);
        return refusalFor(remember(ctx.identity, restriction), created);
      }
      case 'accepted':
      case 'accepted_over_limit':
        await signal(ctx, r, internal);
        return accept(r.outcome === 'accepted' ? 'accepted' : 'over-limit-alert');
      case 'leased_elsewhere':
        // Another process kept a lease past every recall: its holder is gone or cut off.
        return unavailable(new Error('a quota lease held elsewhere was not returned in time'), 'recipient check');
    }
  }

  /** Warnings and alerts never change the answer: the recipient is already counted. */
  async function signal(ctx: RestrictionContext, r: RecordRecipientResult, internal: boolean): Promise<void> {
    const counts = countsAfter(r, internal, ctx.limits, ctx.now);
    const signalCtx = { tenantId: ctx.identity.tenantId, sender: ctx.identity.counted, policyName: ctx.choice.policy.name };
    try {
      if (r.outcome === 'accepted_over_limit') await signals.overLimit(signalCtx, counts, r.exceededLimit);
      await signals.afterAccepted(signalCtx, counts);
    } catch (err) {
      deps.logger?.error({ err, sender: ctx.identity.counted }, 'could not record a sending-limit signal');
    }
  }

  function context(id: Identity, choice: PolicyChoice, effective: EffectiveLimits, check: RecipientCheck, now: Date): RestrictionContext {
    return { db, identity: id, choice, limits: effective, service: limits, now, restrictions: deps.restrictions, actor: systemActor(check.via ?? 'policy') };
  }

  /**
   * Counts at the database. The sender's own leases are closed in the same call; when another
   * process holds a lease the decision needs, it is recalled and the call repeated.
   */
  async function recordAtDatabase(input: RecordRecipientInput): Promise<RecordRecipientResult> {
    const { close, mayLease } = leases.book.toDatabase(input.tenantId, input.sender);
    const leaseWant = leaseMs > 0 && mayLease ? (options.leaseRecipients ?? 64) : 0;
    let result: RecordRecipientResult | undefined;
    try {
      const giveUpAt = Date.now() + leaseMs + LEASE_GRACE_MS;
      for (let attempt = 0; ; attempt++) {
        result = await recorder.record({ ...input, close: attempt === 0 ? close : [], leaseWant });
        if (result.outcome !== 'leased_elsewhere' || Date.now() >= giveUpAt) return result;
        // Besides the NOTIFY the decision sent: should the holder miss it, its lease ends within one lease period.
        if (attempt === 0) await markLeasesRecalled(db, input.tenantId, input.sender).catch((err: unknown) => deps.logger?.warn({ err }, 'could not mark a quota lease recalled'));
        await delay(Math.min(10 * 2 ** attempt, 200));
      }
    } catch (err) {
      // Nothing of that call was committed (or, if it was, settling again changes nothing).
      leases.report(close);
      throw err;
    } finally {
      const replaced = leases.book.fromDatabase({
        tenantId: input.tenantId, sender: input.sender, internal: input.internal, instance: input.instance, recipient: input.recipient, now: input.now,
        accepted: result?.outcome === 'accepted' || result?.outcome === 'accepted_over_limit',
        messageRecipients: result?.messageRecipients ?? 0,
        lease: result?.lease ?? null,
      });
      leases.report(replaced);
      if (result?.lease) leases.held();
    }
  }

  /**
   * The answer memory alone gives (a sender restricted, or a recipient a lease covers), or what
   * the database needs to decide the recipient.
   */
  function answerFromCaches(id: Identity, check: RecipientCheck, tenant: TenantSnapshot): Decision | LeaseRequest {
    const cached = restricted.get(id.tenantId, id.counted);
    if (cached) return refusalFor(cached);
    const recipient = canonicalAddress(check.recipient);
    const request: LeaseRequest = {
      tenantId: id.tenantId,
      sender: id.counted,
      internal: tenant.isInternal(domainOf(recipient)),
      instance: check.instance?.trim() || null,
      recipient,
      now: clock.now(),
      recipientsPerMessage: limits.recipientsPerMessage,
    };
    const fromLease = leases.book.take(request);
    return fromLease ? accept(fromLease) : request;
  }

  /**
   * Answers a recipient without waiting when everything it needs is in memory: most recipients
   * of a busy sender (covered by a lease), and every one of a restricted sender. Undefined when
   * the database has to be asked: call `checkRecipient`. The answer and what it counts are those
   * `checkRecipient` gives; this only spares the request path its promises and deadline timer.
   */
  function answerFromMemory(check: RecipientCheck): Decision | undefined {
    const id = identifyFromMemory(check);
    if (id === undefined || !('counted' in id)) return id;
    const tenant = directory.snapshotLoaded(id.tenantId);
    if (!tenant) return undefined;
    const answer = answerFromCaches(id, check, tenant);
    return 'verdict' in answer ? answer : undefined;
  }

  /** Checks and counts one recipient (the RCPT stage). Mail *to* a restricted user is never refused. */
  function checkRecipient(check: RecipientCheck): Promise<Decision> {
    return withDeadline(async () => {
      const id = await identify(check);
      if (!('counted' in id)) return id;
      const tenant = await directory.snapshot(id.tenantId);
      const answer = answerFromCaches(id, check, tenant);
      if ('verdict' in answer) return answer;
      const { internal, instance, recipient, now } = answer;
      const choice = tenant.choose(id.sender);
      const ctx = context(id, choice, resolveLimits(choice.policy, limits), check, now);
      const result = await recordAtDatabase({
        tenantId: id.tenantId,
        sender: id.counted,
        instance,
        recipient,
        internal,
        now: ctx.now,
        limitInternalPerHour: ctx.limits.internalPerHour,
        limitExternalPerHour: ctx.limits.externalPerHour,
        limitPerDay: ctx.limits.perDay,
        restricts: ctx.limits.action !== 'Alert',
        serviceRecipientsPerDay: limits.recipientsPerDay,
        messagesPerMinute: limits.messagesPerMinute,
        recipientsPerMessage: limits.recipientsPerMessage,
      });
      return afterRecord(ctx, result, internal);
    }, 'recipient check');
  }

  /** Whether a sender may submit at all (MAIL FROM in the relay); counts nothing. */
  function checkSender(check: SenderCheck): Promise<Decision> {
    return withDeadline(async () => {
      const id = await identify(check);
      if (!('counted' in id)) return id;
      const cached = restricted.get(id.tenantId, id.counted);
      if (cached) return refusalFor(cached);
      const active = await findActiveRestriction(db, { tenantId: id.tenantId, entityKind: 'user', entityKey: id.counted });
      if (!active || (active.expiresAt && active.expiresAt <= clock.now())) return accept('accepted');
      return refusalFor(remember(id, { restrictionId: active.id, reasonCode: active.reasonCode, expiresAt: active.expiresAt }));
    }, 'sender check');
  }

  const activity = createSenderActivity({ db, clock, limits, directory });

  /** What enforcement sees for a sender; this process's lease usage is written back first. */
  async function getSenderActivity(tenantId: string, senderAddress: string) {
    await leases.flush();
    return activity.getSenderActivity(tenantId, senderAddress);
  }

  let warming: Promise<void> | undefined;
  /**
   * Readies the request path before the first request: the accepted domains and restricted
   * connectors in memory, and each of `connections` database connections ready to count (see
   * `prepareCounting`). Otherwise a new process's first senders wait for all of that.
   */
  function warmUp(connections: number): Promise<void> {
    // Matching any address loads the restricted connectors' list.
    warming ??= Promise.all([directory.load(WARM_TENANTS), connectors.match('127.0.0.1'), recorder.prepare(connections)]).then(
      () => {},
      (err: unknown) => {
        warming = undefined;
        throw err;
      },
    );
    return warming;
  }

  return {
    checkRecipient,
    answerFromMemory,
    warmUp,
    checkSender,
    getSenderActivity,
    /** Drops cached tenant data and this process's leases (after a change made without an event, and in tests). */
    invalidate(tenantId?: string): void {
      directory.invalidate(tenantId);
      connectors.invalidate();
      restricted.clear();
      leases.close(tenantId);
    },
    /** Writes back lease usage now (before reading counts this process may have changed); `paced`: only what the timer would. */
    flushLeases: (paced = false) => leases.flush(paced),
    /** Stops following events and gives every lease back. */
    async stop(): Promise<void> {
      unsubscribe?.();
      await leases.stop();
    },
  };
}

export type EnforcementService = ReturnType<typeof createEnforcementService>;
