import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { eventIdBefore, readEventsOfTypes } from '../../db/repos/events.ts';
import {
  claimPostedCard,
  completePostedCard,
  dropPostedCardClaim,
  deleteConversation,
  findPostedCard,
  leaseDueCardUpdates,
  markPostedCardsForUpdate,
  settleCardUpdate,
  type DueCardUpdate,
  type TeamsConversation,
} from '../../db/repos/teams-conversations.ts';
import type { Clock } from '../../domain/clock.ts';
import type { StoredEvent } from '../../domain/events/event-types.ts';
import { createAdminApi } from '../admin-api.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { restrictionNoticeCard, type NoticeUser } from '../cards/restriction-notice-card.ts';
import type { GraphQLClient } from '../graphql/graphql-client.ts';
import { restrictedUserId } from '../graphql/restriction-query.ts';
import type { BotLogger } from '../sendguard-bot.ts';
import { backoffMs, ConnectorError, defaultRetry, pause, withConnectorRetry, type Connector, type RetryOptions } from './connector.ts';

export interface RestrictionNoticesDeps {
  db: Db;
  clock: Clock;
  graphql: GraphQLClient;
  connector: Connector;
  logger: BotLogger;
  retry?: RetryOptions;
  /** A claim older than this belongs to a process that died while posting; it may be taken over. */
  claimLeaseMs?: number;
  /** Tries of an update Teams keeps refusing, and the waits between them (after `retry`'s own). */
  updateRetry?: RetryOptions;
  /** How often the updates owed are looked for (those refused before, those of a stopped process). */
  updatePollMs?: number;
}

/** `busy`: another process is posting this notice right now. */
export type NoticeOutcome = 'posted' | 'already-posted' | 'busy' | 'restriction-gone';

const payload = z.object({ restrictionId: z.string().uuid(), extended: z.boolean().optional() });
const endedTypes = new Set(['UserReleased', 'RestrictionExpired']);
const busyChecks = 20;
const busyCheckMs = 250;
const updateBatch = 20;
/** Restrictions that ended (or were extended) this recently while no bot process ran are caught up on at start. */
const catchUpMs = 24 * 60 * 60_000;
const changeTypes = ['UserReleased', 'RestrictionExpired', 'UserRestricted'];

/** The stored ConversationReference of a conversation, as the connector takes it. */
export function referenceOf(conversation: TeamsConversation): Record<string, unknown> {
  const reference = conversation.reference;
  if (typeof reference !== 'object' || reference === null || Array.isArray(reference)) throw new Error(`conversation ${conversation.conversationId} has no usable reference`);
  return reference as Record<string, unknown>;
}

/**
 * Restriction notices: posted to a subscribed conversation as the "User restricted from sending
 * email" alert's Teams notification (`deliver`), and brought up to date wherever they were posted
 * when the restriction ends (released through any path, or expired) or an admin's block extends
 * it. Updates run in the background so the event bus is never held up by Teams.
 */
export function createRestrictionNotices(deps: RestrictionNoticesDeps) {
  const { db, clock, connector, logger } = deps;
  const retry = deps.retry ?? defaultRetry;
  const leaseMs = deps.claimLeaseMs ?? 10 * 60_000;
  const updateRetry = deps.updateRetry ?? { attempts: 12, baseMs: 10_000, maxMs: 60 * 60_000 };
  const updatePollMs = deps.updatePollMs ?? 30_000;
  let poll: NodeJS.Timeout | undefined;
  const stopping = new AbortController();
  const unsaved = new Map<string, { claim: string; activityId: string; shownAt: Date }>();
  let queue: Promise<void> = Promise.resolve();

  async function notice(tenantId: string, restrictionRowId: string, now = clock.now()): Promise<{ user: NoticeUser; card: AdaptiveCard } | null> {
    const user = await createAdminApi(deps.graphql, { tenantId, admin: null }).restriction(restrictedUserId(restrictionRowId));
    return user ? { user, card: restrictionNoticeCard({ user, now }) } : null;
  }

  /**
   * The notice is in the conversation: its id is saved, retrying, and the claim kept whatever
   * happens, since a dropped claim would let the next try post the notice again. An id the
   * database did not take is kept here, and the next try in this process saves it instead of posting.
   */
  async function savePosted(unsavedKey: string, claim: string, activityId: string, shownAt: Date): Promise<void> {
    unsaved.set(unsavedKey, { claim, activityId, shownAt });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await completePostedCard(db, claim, activityId, shownAt);
        unsaved.delete(unsavedKey);
        return;
      } catch (err) {
        if (attempt >= retry.attempts || stopping.signal.aborted) throw err;
        await pause(backoffMs(retry, attempt), stopping.signal);
      }
    }
  }

  /** Posts the notice into one conversation at most once, whoever asks and in however many processes. */
  async function postTo(conversation: TeamsConversation, restrictionRowId: string, shown: { card: AdaptiveCard; readAt: Date }, signal: AbortSignal): Promise<NoticeOutcome> {
    const key = { tenantId: conversation.tenantId, conversationId: conversation.conversationId, restrictionId: restrictionRowId };
    const unsavedKey = JSON.stringify(key);
    const posted = unsaved.get(unsavedKey);
    if (posted) {
      await savePosted(unsavedKey, posted.claim, posted.activityId, posted.shownAt);
      return 'posted';
    }
    const now = clock.now();
    const claim = await claimPostedCard(db, key, now, new Date(now.getTime() - leaseMs));
    if (!claim) return (await findPostedCard(db, key))?.activityId ? 'already-posted' : 'busy';
    let activityId: string;
    try {
      ({ activityId } = await withConnectorRetry(() => connector.post(referenceOf(conversation), shown.card, signal), retry, signal));
    } catch (err) {
      // Never posted: give the claim up so a retry may post it.
      await dropPostedCardClaim(db, claim);
      throw err;
    }
    await savePosted(unsavedKey, claim, activityId, shown.readAt);
    return 'posted';
  }

  /** One owed update: made, rescheduled with backoff, or given up when Teams says it never can be. */
  async function updateCard(due: DueCardUpdate, current: AdaptiveCard | null): Promise<void> {
    const { card, conversation } = due;
    const where = { tenantId: card.tenantId, conversationId: card.conversationId };
    try {
      if (current) await withConnectorRetry(() => connector.update(referenceOf(conversation), card.activityId, current, stopping.signal), retry, stopping.signal);
      await settleCardUpdate(db, due, null, due.leasedAt);
    } catch (err) {
      const attempts = card.updateAttempts + 1;
      if (err instanceof ConnectorError && err.conversationGone) return deleteConversation(db, card.tenantId, card.conversationId);
      if (err instanceof ConnectorError && err.status !== null && !err.retryable) {
        logger.warn({ err, ...where }, 'restriction notice cannot be updated; giving up');
        // Never to be updated (deleted, say): counted as up to date, so no start tries it again.
        return settleCardUpdate(db, due, null, due.leasedAt);
      }
      if (attempts >= updateRetry.attempts) {
        logger.warn({ err, ...where, attempts }, 'restriction notice not updated after every try; giving up');
        return settleCardUpdate(db, due, null);
      }
      logger.warn({ err, ...where, attempts }, 'restriction notice not updated; will retry');
      await settleCardUpdate(db, due, new Date(clock.now().getTime() + backoffMs(updateRetry, attempts)));
    }
  }

  /** Makes the updates that are due (of one restriction, or all), a batch at a time. */
  async function updateDue(restriction?: { tenantId: string; restrictionId: string }): Promise<void> {
    while (!stopping.signal.aborted) {
      const now = clock.now();
      const due = await leaseDueCardUpdates(db, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: updateBatch, restriction });
      const current = new Map<string, Promise<AdaptiveCard | null>>();
      const cardOf = (d: DueCardUpdate) => {
        const key = d.card.restrictionId;
        if (!current.has(key)) current.set(key, notice(d.card.tenantId, key).then((n) => n?.card ?? null));
        return current.get(key) as Promise<AdaptiveCard | null>;
      };
      await Promise.all(due.map(async (d) => updateCard(d, await cardOf(d))));
      if (due.length < updateBatch) return;
    }
  }

  /** The restriction changed: its posted notices owe an update, kept in the database until made. */
  async function updatePosted(tenantId: string, restrictionRowId: string): Promise<void> {
    await markPostedCardsForUpdate(db, tenantId, restrictionRowId, clock.now());
    await updateDue({ tenantId, restrictionId: restrictionRowId });
  }

  /**
   * Released, expired or extended while the notice was on its way: the change's update may not
   * have found it yet (it was not saved), so the notice is compared with the restriction now.
   */
  async function changedMeanwhile(tenantId: string, restrictionRowId: string, shown: { card: AdaptiveCard; readAt: Date }): Promise<void> {
    const now = await notice(tenantId, restrictionRowId, shown.readAt);
    if (JSON.stringify(now?.card) !== JSON.stringify(shown.card)) await updatePosted(tenantId, restrictionRowId);
  }

  /** The restriction change an event means for posted notices, if any. */
  function changed(event: StoredEvent): { tenantId: string; restrictionId: string } | null {
    if (event.entityKind !== 'user') return null;
    const parsed = payload.safeParse(event.payload);
    if (!parsed.success) return null;
    const { restrictionId, extended } = parsed.data;
    return endedTypes.has(event.type) || (event.type === 'UserRestricted' && extended) ? { tenantId: event.tenantId, restrictionId } : null;
  }

  /** Marks the notices of restrictions changed by events before the bus started (through `throughId`), then updates what is due. */
  async function catchUp(throughId: number): Promise<void> {
    let after = await eventIdBefore(db, new Date(clock.now().getTime() - catchUpMs), throughId);
    for (;;) {
      const batch = await readEventsOfTypes(db, { types: changeTypes, afterId: after, throughId, limit: 500 });
      for (const event of batch) {
        after = event.id;
        const change = changed(event);
        // A notice brought up to date after the change (by the process that saw it) is left as it is.
        if (change) await markPostedCardsForUpdate(db, change.tenantId, change.restrictionId, clock.now(), event.occurredAt);
      }
      if (batch.length < 500) break;
    }
    await updateDue();
  }

  function enqueue(work: () => Promise<void>): void {
    queue = queue.then(work).catch((err: unknown) => logger.error({ err }, 'restriction notices failed'));
  }

  return {
    /** For the event bus: returns at once, the posting happens in order in the background. */
    handle(event: StoredEvent): void {
      const change = stopping.signal.aborted ? null : changed(event);
      if (change) enqueue(() => updatePosted(change.tenantId, change.restrictionId));
    },
    /**
     * The only way a notice is posted: as the Teams notification of the "User restricted from
     * sending email" alert, so the alert policy's switch, its daily limit and the audit-log switch
     * decide, and the notification's record says what happened. Posted once per conversation.
     */
    async deliver(conversation: TeamsConversation, restrictionRowId: string, signal?: AbortSignal): Promise<NoticeOutcome> {
      const readAt = clock.now();
      const current = await notice(conversation.tenantId, restrictionRowId, readAt);
      if (!current) return 'restriction-gone';
      const shown = { card: current.card, readAt };
      // Given up when the caller (the notification worker) stops, or this process does.
      const stop = signal ? AbortSignal.any([stopping.signal, signal]) : stopping.signal;
      // A retry after a crash may find another process still holding the claim: wait a little for it.
      for (let attempt = 0; ; attempt += 1) {
        const outcome = await postTo(conversation, restrictionRowId, shown, stop);
        if (outcome === 'posted') await changedMeanwhile(conversation.tenantId, restrictionRowId, shown);
        if (outcome !== 'busy' || attempt >= busyChecks || stop.aborted) return outcome;
        await pause(busyCheckMs, stop);
      }
    },
    /** Makes the updates owed now: refused before, or left by a process that stopped. */
    updateDue(): Promise<void> {
      enqueue(() => updateDue());
      return queue;
    },
    /**
     * Catches up on restrictions that changed while no bot process ran (events through
     * `throughId`, the last the bus delivered before `handle` was subscribed), then looks for
     * owed updates every `updatePollMs`.
     */
    start(throughId: number): void {
      enqueue(() => catchUp(throughId));
      poll = setInterval(() => enqueue(() => updateDue()), updatePollMs);
    },
    /** Resolves once everything handed in so far is done (tests, shutdown). */
    idle: (): Promise<void> => queue,
    async stop(): Promise<void> {
      clearInterval(poll);
      stopping.abort();
      await queue;
    },
  };
}

export type RestrictionNotices = ReturnType<typeof createRestrictionNotices>;
