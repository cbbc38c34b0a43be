import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

export const alertKinds = ['UserRestricted', 'SendingLimitExceeded', 'SendingLimitNearlyReached'] as const;
export const alertSeverities = ['Low', 'Medium', 'High'] as const;
export const alertStatuses = ['New', 'InProgress', 'Resolved'] as const;

export const alertPolicies = pgTable(
  'alert_policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: alertKinds }).notNull(),
    name: text('name').notNull(),
    severity: text('severity', { enum: alertSeverities }).notNull(),
    isDefault: boolean('is_default').notNull().default(true),
    enabled: boolean('enabled').notNull().default(true),
    emailEnabled: boolean('email_enabled').notNull().default(true),
    /** `TenantAdmins` stands for the tenant's Global Administrators. */
    recipients: text('recipients').array().notNull().default(sql`'{TenantAdmins}'::text[]`),
    /** Notifications per policy per UTC day; null = no limit. */
    dailyNotificationLimit: integer('daily_notification_limit'),
    thresholdPercent: integer('threshold_percent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('alert_policies_name_uq').on(t.tenantId, t.name), uniqueIndex('alert_policies_default_kind_uq').on(t.tenantId, t.kind).where(sql`${t.isDefault}`)],
);

export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull().references(() => alertPolicies.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: alertKinds }).notNull(),
    severity: text('severity', { enum: alertSeverities }).notNull(),
    status: text('status', { enum: alertStatuses }).notNull().default('New'),
    title: text('title').notNull(),
    entityKind: text('entity_kind').notNull(),
    entityKey: text('entity_key').notNull(),
    restrictionId: uuid('restriction_id'),
    details: jsonb('details').notNull().default(sql`'{}'::jsonb`),
    hitCount: integer('hit_count').notNull().default(1),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    statusChangedBy: text('status_changed_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('alerts_list_idx').on(t.tenantId, t.status, t.firstSeenAt, t.id),
    index('alerts_aggregate_idx').on(t.tenantId, t.policyId, t.entityKey, t.lastSeenAt),
  ],
);

/**
 * An alert stream's newest event that raised nothing because alerts were off (the tenant's audit
 * log, or the policy): the event was handled, and a catch-up after a restart must not raise it
 * later under the settings of that time.
 */
export const alertStreamMarks = pgTable(
  'alert_stream_marks',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull().references(() => alertPolicies.id, { onDelete: 'cascade' }),
    entityKind: text('entity_kind').notNull(),
    entityKey: text('entity_key').notNull(),
    lastEventId: bigint('last_event_id', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.policyId, t.entityKind, t.entityKey] })],
);

/** An outbox: written with its alert, delivered by a worker; the unique key stops double sends. */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    alertId: uuid('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: ['email', 'teams'] }).notNull(),
    recipient: text('recipient').notNull(),
    status: text('status', { enum: ['Pending', 'Sending', 'Sent', 'Failed', 'Suppressed'] }).notNull().default('Pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('notifications_uq').on(t.alertId, t.channel, t.recipient), index('notifications_due_idx').on(t.status, t.nextAttemptAt)],
);
