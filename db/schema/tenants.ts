import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A domain belongs to one tenant; subdomains of an accepted domain are internal too. */
export const acceptedDomains = pgTable(
  'accepted_domains',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    domain: text('domain').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.domain] }), uniqueIndex('accepted_domains_domain_uq').on(t.domain)],
);

export const tenantSettings = pgTable('tenant_settings', {
  tenantId: text('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  auditLogEnabled: boolean('audit_log_enabled').notNull().default(true),
  /** Releases allowed per user per window; null = the deployment default. */
  unblockQuota: integer('unblock_quota'),
  unblockQuotaWindowDays: integer('unblock_quota_window_days'),
  requireSecondApproval: boolean('require_second_approval').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Distribution groups, for the `fromMemberOf` rule condition. */
export const groupMembers = pgTable(
  'group_members',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    groupAddress: text('group_address').notNull(),
    memberAddress: text('member_address').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.groupAddress, t.memberAddress] }), index('group_members_member_idx').on(t.tenantId, t.memberAddress)],
);
