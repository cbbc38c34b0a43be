import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
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
 *
 * The busiest table there is (every accepted recipient, written again in bulk by lease usage
 * reports), so it carries only what its two readers need: the primary key for the duplicate
 * check, and a BRIN index for the pruner, whose rows arrive in time order. No foreign key to
 * `tenants`: a row is written only for a tenant just resolved, and is pruned within a day
 * (the check was a third of the cost of a bulk insert).
 */
export const countedRecipients = pgTable(
  'counted_recipients',
  {
    tenantId: text('tenant_id').notNull(),
    instance: text('instance').notNull(),
    recipient: text('recipient').notNull(),
    sender: text('sender').notNull(),
    internal: boolean('internal').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The lease whose usage report recorded it; null when a decision at the database did. A report
     * that finds a recipient already recorded by someone else gives it back (migration 0014).
     */
    lease: uuid('lease'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.instance, t.recipient] }), index('counted_recipients_created_idx').using('brin', t.createdAt)],
);

/**
 * Recipients a lease's usage report gave back because someone else had recorded them first
 * (migration 0015): one row per recipient and lease, so a report retried after a commit it did
 * not hear gives nothing back twice. Rare (a request retried at another process before the
 * report), and pruned with `counted_recipients`.
 */
export const leaseGiveBacks = pgTable(
  'lease_give_backs',
  {
    tenantId: text('tenant_id').notNull(),
    instance: text('instance').notNull(),
    recipient: text('recipient').notNull(),
    lease: uuid('lease').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.instance, t.recipient, t.lease] }), index('lease_give_backs_created_idx').on(t.createdAt)],
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

/**
 * Quota a policy server holds for a sender: `recipients` (of one kind) and `messages` added to
 * the sender's counters in `bucket` when granted, of which `used` and `used_messages` have been
 * reported used. The server answers from memory until the lease runs out or expires, then the
 * unused rest is taken back off the counters (`sendguard_settle_lease`). Counts therefore never
 * lag what was accepted.
 */
export const sendingLeases = pgTable(
  'sending_leases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    sender: text('sender').notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    internal: boolean('internal').notNull(),
    recipients: integer('recipients').notNull(),
    messages: integer('messages').notNull(),
    /** The highest totals reported used so far. */
    used: integer('used').notNull().default(0),
    usedMessages: integer('used_messages').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Another process's decision asked for it back: usage reports no longer extend it (migration 0011). */
    recalled: boolean('recalled').notNull().default(false),
  },
  // No index on expires_at: usage reports move it forward many times a second (migration 0011),
  // which an index would turn into new index entries; only the daily pruner filters on it, over
  // a table of live leases.
  (t) => [index('sending_leases_sender_idx').on(t.tenantId, t.sender)],
);
