import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { teamsConversations, teamsPostedCards } from '../schema/teams.ts';

export type TeamsConversation = typeof teamsConversations.$inferSelect;
export type TeamsPostedCard = typeof teamsPostedCards.$inferSelect;

export interface ConversationRow {
  tenantId: string;
  conversationId: string;
  conversationType: string;
  /** A channel's team; null for chats. */
  teamId: string | null;
  serviceUrl: string;
  reference: Record<string, unknown>;
  at: Date;
}

/** Inserts or refreshes the conversation reference; says whether the row is new. */
export async function upsertConversation(db: Db, row: ConversationRow): Promise<{ created: boolean }> {
  const [result] = await db
    .insert(teamsConversations)
    .values({ ...row, createdAt: row.at, updatedAt: row.at })
    .onConflictDoUpdate({
      target: [teamsConversations.tenantId, teamsConversations.conversationId],
      // An activity without the team (some events carry none) keeps the team already known.
      set: { conversationType: row.conversationType, teamId: sql`coalesce(excluded.team_id, ${teamsConversations.teamId})`, serviceUrl: row.serviceUrl, reference: row.reference, updatedAt: row.at },
    })
    .returning({ created: sql<boolean>`(xmax = 0)` });
  return { created: result?.created === true };
}

export async function findConversation(db: Db, tenantId: string, conversationId: string, options: { forUpdate?: boolean } = {}): Promise<TeamsConversation | undefined> {
  const query = db
    .select()
    .from(teamsConversations)
    .where(and(eq(teamsConversations.tenantId, tenantId), eq(teamsConversations.conversationId, conversationId)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function setConversationSubscribed(
  db: Db,
  key: { tenantId: string; conversationId: string },
  change: { subscribed: boolean; by: string | null; at: Date },
): Promise<TeamsConversation | undefined> {
  const [row] = await db
    .update(teamsConversations)
    .set({ subscribed: change.subscribed, subscribedBy: change.by, updatedAt: change.at })
    .where(and(eq(teamsConversations.tenantId, key.tenantId), eq(teamsConversations.conversationId, key.conversationId)))
    .returning();
  return row;
}

/** The bot was removed from the conversation: forget it, and with it any subscription. */
export async function deleteConversation(db: Db, tenantId: string, conversationId: string): Promise<void> {
  await db.delete(teamsConversations).where(and(eq(teamsConversations.tenantId, tenantId), eq(teamsConversations.conversationId, conversationId)));
}

/**
 * The bot left a team, or the team is gone: forget its channels. The General channel's id is the
 * team's, which also covers a channel remembered before its team was recorded.
 */
export async function deleteTeamConversations(db: Db, tenantId: string, teamId: string): Promise<void> {
  await db
    .delete(teamsConversations)
    .where(and(eq(teamsConversations.tenantId, tenantId), or(eq(teamsConversations.teamId, teamId), eq(teamsConversations.conversationId, teamId))));
}

// A posted card whose `activity_id` is still empty is a claim: some process is posting it. The
// claim is what keeps several bot processes (and the alert worker) from posting one notice twice.
const CLAIMED = '';

export interface PostedCardKey {
  tenantId: string;
  conversationId: string;
  restrictionId: string;
}

/**
 * Claims the right to post the card for a restriction in a conversation. Returns the claim's id,
 * or undefined when the card is posted already or another claim on it is younger than `staleBefore`.
 */
export async function claimPostedCard(db: Db, key: PostedCardKey, at: Date, staleBefore: Date): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${key.restrictionId}\u001f${key.conversationId}`}, 13))`);
    const [existing] = await tx
      .select()
      .from(teamsPostedCards)
      .where(and(eq(teamsPostedCards.tenantId, key.tenantId), eq(teamsPostedCards.restrictionId, key.restrictionId), eq(teamsPostedCards.conversationId, key.conversationId)));
    if (!existing) {
      const [inserted] = await tx.insert(teamsPostedCards).values({ ...key, activityId: CLAIMED, createdAt: at }).returning({ id: teamsPostedCards.id });
      return inserted?.id;
    }
    if (existing.activityId !== CLAIMED || existing.createdAt >= staleBefore) return undefined;
    await tx.update(teamsPostedCards).set({ createdAt: at }).where(eq(teamsPostedCards.id, existing.id));
    return existing.id;
  });
}

/**
 * Saves the posted card's id on its claim, with when the restriction it shows was read, unless
 * another process has completed the claim since.
 */
export async function completePostedCard(db: Db, id: string, activityId: string, shownAt: Date): Promise<void> {
  await db.update(teamsPostedCards).set({ activityId, shownAt }).where(and(eq(teamsPostedCards.id, id), eq(teamsPostedCards.activityId, CLAIMED)));
}

/** Gives a claim up after a failed post, so a retry may claim it again. */
export async function dropPostedCardClaim(db: Db, id: string): Promise<void> {
  await db.delete(teamsPostedCards).where(and(eq(teamsPostedCards.id, id), eq(teamsPostedCards.activityId, CLAIMED)));
}

export async function findPostedCard(db: Db, key: PostedCardKey): Promise<TeamsPostedCard | undefined> {
  const [row] = await db
    .select()
    .from(teamsPostedCards)
    .where(and(eq(teamsPostedCards.tenantId, key.tenantId), eq(teamsPostedCards.restrictionId, key.restrictionId), eq(teamsPostedCards.conversationId, key.conversationId)));
  return row;
}

/** The posted cards of a restriction with the conversation reference each was posted to. */
export async function postedCardsOf(db: Db, tenantId: string, restrictionId: string): Promise<{ card: TeamsPostedCard; conversation: TeamsConversation }[]> {
  const rows = await db
    .select({ card: teamsPostedCards, conversation: teamsConversations })
    .from(teamsPostedCards)
    .innerJoin(teamsConversations, and(eq(teamsConversations.tenantId, teamsPostedCards.tenantId), eq(teamsConversations.conversationId, teamsPostedCards.conversationId)))
    .where(and(eq(teamsPostedCards.tenantId, tenantId), eq(teamsPostedCards.restrictionId, restrictionId), ne(teamsPostedCards.activityId, CLAIMED)))
    .orderBy(asc(teamsPostedCards.createdAt));
  return rows;
}

/**
 * The restriction changed: every posted card of it owes an update, due at `at`; with `changedAt`,
 * only the cards showing the restriction as read before then (or at a time not known).
 */
export async function markPostedCardsForUpdate(db: Db, tenantId: string, restrictionId: string, at: Date, changedAt?: Date): Promise<void> {
  const shownBefore = changedAt ? or(isNull(teamsPostedCards.shownAt), lt(teamsPostedCards.shownAt, changedAt)) : undefined;
  await db
    .update(teamsPostedCards)
    .set({ updateDueAt: at, updateAttempts: 0 })
    .where(and(eq(teamsPostedCards.tenantId, tenantId), eq(teamsPostedCards.restrictionId, restrictionId), ne(teamsPostedCards.activityId, CLAIMED), shownBefore));
}

export interface DueCardUpdate {
  card: TeamsPostedCard;
  conversation: TeamsConversation;
  /** The lease taken on the update; finishing or rescheduling it only applies while it still holds. */
  leasedUntil: Date;
  /** When the lease was taken: the restriction is read after it, for the card's new state. */
  leasedAt: Date;
}

/**
 * Leases up to `limit` posted cards whose update is due (optionally of one restriction) until
 * `leaseUntil`, skipping those another process holds, so each is updated by one process at a time.
 */
export async function leaseDueCardUpdates(
  db: Db,
  options: { now: Date; leaseUntil: Date; limit: number; restriction?: { tenantId: string; restrictionId: string } },
): Promise<DueCardUpdate[]> {
  return db.transaction(async (tx) => {
    const only = options.restriction ? and(eq(teamsPostedCards.tenantId, options.restriction.tenantId), eq(teamsPostedCards.restrictionId, options.restriction.restrictionId)) : undefined;
    const rows = await tx
      .select({ card: teamsPostedCards, conversation: teamsConversations })
      .from(teamsPostedCards)
      .innerJoin(teamsConversations, and(eq(teamsConversations.tenantId, teamsPostedCards.tenantId), eq(teamsConversations.conversationId, teamsPostedCards.conversationId)))
      .where(and(isNotNull(teamsPostedCards.updateDueAt), lte(teamsPostedCards.updateDueAt, options.now), only))
      .orderBy(asc(teamsPostedCards.updateDueAt))
      .limit(options.limit)
      .for('update', { of: teamsPostedCards, skipLocked: true });
    if (rows.length === 0) return [];
    await tx.update(teamsPostedCards).set({ updateDueAt: options.leaseUntil }).where(inArray(teamsPostedCards.id, rows.map((r) => r.card.id)));
    return rows.map((r) => ({ ...r, leasedUntil: options.leaseUntil, leasedAt: options.now }));
  });
}

/**
 * The leased update is done (`retryAt` null; `shownAt` when the card now shows the restriction as
 * read then) or is to be tried again at `retryAt`. A card marked again meanwhile (the restriction
 * changed once more) keeps that newer due time.
 */
export async function settleCardUpdate(db: Db, due: Pick<DueCardUpdate, 'card' | 'leasedUntil'>, retryAt: Date | null, shownAt?: Date): Promise<void> {
  await db
    .update(teamsPostedCards)
    .set(retryAt ? { updateDueAt: retryAt, updateAttempts: sql`${teamsPostedCards.updateAttempts} + 1` } : { updateDueAt: null, updateAttempts: 0, ...(shownAt ? { shownAt } : {}) })
    .where(and(eq(teamsPostedCards.id, due.card.id), eq(teamsPostedCards.updateDueAt, due.leasedUntil)));
}
