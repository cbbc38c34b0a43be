import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

export const outboundSpamPolicies = pgTable(
  'outbound_spam_policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    /** 0 = the service default. */
    recipientLimitExternalPerHour: integer('recipient_limit_external_per_hour').notNull().default(0),
    recipientLimitInternalPerHour: integer('recipient_limit_internal_per_hour').notNull().default(0),
    recipientLimitPerDay: integer('recipient_limit_per_day').notNull().default(0),
    actionWhenThresholdReached: text('action_when_threshold_reached', { enum: ['BlockUserForToday', 'BlockUser', 'Alert'] })
      .notNull()
      .default('BlockUserForToday'),
    notifyOutboundSpamRecipients: text('notify_outbound_spam_recipients').array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('outbound_spam_policies_name_uq').on(t.tenantId, t.name),
    uniqueIndex('outbound_spam_policies_default_uq').on(t.tenantId).where(sql`${t.isDefault}`),
  ],
);

/** Chooses who a non-default policy applies to. Priority 0 is the highest. */
export const outboundSpamRules = pgTable(
  'outbound_spam_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull().references(() => outboundSpamPolicies.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    priority: integer('priority').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    from: text('from').array().notNull().default(sql`'{}'::text[]`),
    fromMemberOf: text('from_member_of').array().notNull().default(sql`'{}'::text[]`),
    senderDomainIs: text('sender_domain_is').array().notNull().default(sql`'{}'::text[]`),
    exceptIfFrom: text('except_if_from').array().notNull().default(sql`'{}'::text[]`),
    exceptIfFromMemberOf: text('except_if_from_member_of').array().notNull().default(sql`'{}'::text[]`),
    exceptIfSenderDomainIs: text('except_if_sender_domain_is').array().notNull().default(sql`'{}'::text[]`),
    comments: text('comments'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('outbound_spam_rules_priority_uq').on(t.tenantId, t.priority),
    uniqueIndex('outbound_spam_rules_name_uq').on(t.tenantId, t.name),
    uniqueIndex('outbound_spam_rules_policy_uq').on(t.policyId),
  ],
);
