import { boolean, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

/** Accepted recipients per counted sender in one-minute buckets; windows are sums over buckets. */
export const sendingCounters = pgTable(
  'sending_counters',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    sender: text('sender').notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    internal: integer('internal').notNull().default(0),
    external: integer('external').notNull().default(0),
    messages: integer('messages').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.sender, t.bucket] }), index('sending_counters_bucket_idx').on(t.bucket)],
);

/**
 * One row per accepted (Postfix transaction `instance`, recipient), so that a retried policy
 * request is counted once, and the recipients of one message can be counted.
 */
export const countedRecipients = pgTable(
  'counted_recipients',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    instance: text('instance').notNull(),
    recipient: text('recipient').notNull(),
    sender: text('sender').notNull(),
    internal: boolean('internal').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.instance, t.recipient] }), index('counted_recipients_created_idx').on(t.createdAt)],
);

/** "Sending limit nearly reached" fires at most once per sender, limit and window start. */
export const sendingWarnings = pgTable(
  'sending_warnings',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    sender: text('sender').notNull(),
    limitType: text('limit_type').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.sender, t.limitType, t.windowStart] })],
);
