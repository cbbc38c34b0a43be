import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

/** Where the bot may post proactively (Bot Framework ConversationReference as JSON). */
export const teamsConversations = pgTable(
  'teams_conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id').notNull(),
    conversationType: text('conversation_type').notNull(),
    /** A channel's team (Teams' `channelData.team.id`), so leaving or deleting the team forgets all its channels. */
    teamId: text('team_id'),
    serviceUrl: text('service_url').notNull(),
    reference: jsonb('reference').notNull(),
    subscribed: boolean('subscribed').notNull().default(false),
    subscribedBy: text('subscribed_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('teams_conversations_uq').on(t.tenantId, t.conversationId), index('teams_conversations_team_idx').on(t.tenantId, t.teamId)],
);

/** Cards the bot posted about a restriction, so they can be updated when it is released. */
export const teamsPostedCards = pgTable(
  'teams_posted_cards',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id').notNull(),
    activityId: text('activity_id').notNull(),
    restrictionId: uuid('restriction_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The card shows an outdated state: when to (try to) update it next; null when it is current. */
    updateDueAt: timestamp('update_due_at', { withTimezone: true, mode: 'date' }),
    /** Failed tries of the update that is due. */
    updateAttempts: integer('update_attempts').notNull().default(0),
    /** When the restriction was read for what the card shows (posted or last updated, or found never to be updatable); null: not known. */
    shownAt: timestamp('shown_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('teams_posted_cards_restriction_idx').on(t.restrictionId), index('teams_posted_cards_update_due_idx').on(t.updateDueAt)],
);
