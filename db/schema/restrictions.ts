import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.ts';

export const entityKinds = ['user', 'connector'] as const;
export const restrictionStatuses = ['Restricted', 'Released', 'Expired'] as const;

/**
 * A restricted user (key: SMTP address) or connector (key: connector GUID). History is kept;
 * the partial unique index allows one active restriction per entity.
 */
export const restrictions = pgTable(
  'restrictions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    entityKind: text('entity_kind', { enum: entityKinds }).notNull(),
    entityKey: text('entity_key').notNull(),
    reasonCode: text('reason_code').notNull(),
    exceededLimit: text('exceeded_limit'),
    limitValue: integer('limit_value'),
    internalRecipientCount: integer('internal_recipient_count').notNull().default(0),
    externalRecipientCount: integer('external_recipient_count').notNull().default(0),
    lastMessageRecipientCount: integer('last_message_recipient_count'),
    policyId: uuid('policy_id'),
    policyName: text('policy_name'),
    action: text('action'),
    details: text('details'),
    temporary: boolean('temporary').notNull().default(false),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    status: text('status', { enum: restrictionStatuses }).notNull().default('Restricted'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull(),
    releasedAt: timestamp('released_at', { withTimezone: true }),
    releasedBy: text('released_by'),
    releaseReason: text('release_reason'),
  },
  (t) => [
    uniqueIndex('restrictions_one_active_uq').on(t.tenantId, t.entityKind, t.entityKey).where(sql`${t.status} = 'Restricted'`),
    index('restrictions_list_idx').on(t.tenantId, t.entityKind, t.status, t.createdAt, t.id),
    index('restrictions_entity_idx').on(t.tenantId, t.entityKind, t.entityKey, t.createdAt),
    index('restrictions_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'Restricted' and ${t.temporary}`),
    // Substring search (`filter.search`, LIKE '%…%' on the lower-cased key) within a tenant: trigrams
    // (pg_trgm) with the tenant in the same GIN index (btree_gin), so a search and its totalCount read
    // only the matches. No pending list (fastupdate): every search would scan it until the next vacuum.
    index('restrictions_search_idx').using('gin', t.tenantId, t.entityKey.op('gin_trgm_ops')).with({ fastupdate: false }),
  ],
);

export const releases = pgTable(
  'releases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    restrictionId: uuid('restriction_id').notNull().references(() => restrictions.id, { onDelete: 'cascade' }),
    entityKind: text('entity_kind', { enum: entityKinds }).notNull(),
    entityKey: text('entity_key').notNull(),
    actorId: text('actor_id').notNull(),
    actorName: text('actor_name').notNull(),
    actorRoles: text('actor_roles').array().notNull().default(sql`'{}'::text[]`),
    approvedBy: text('approved_by'),
    reason: text('reason').notNull(),
    acknowledgedRecommendations: text('acknowledged_recommendations').array().notNull().default(sql`'{}'::text[]`),
    releasedAt: timestamp('released_at', { withTimezone: true }).notNull(),
    /** After a BlockUser release, limits do not restrict this entity again until this time (end of the UTC day). */
    limitExemptUntil: timestamp('limit_exempt_until', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('releases_restriction_uq').on(t.restrictionId),
    index('releases_entity_idx').on(t.tenantId, t.entityKind, t.entityKey, t.releasedAt),
  ],
);

/** A release waiting for a second admin, when the tenant requires two. */
export const releaseRequests = pgTable(
  'release_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    restrictionId: uuid('restriction_id').notNull().references(() => restrictions.id, { onDelete: 'cascade' }),
    requestedBy: text('requested_by').notNull(),
    requestedByName: text('requested_by_name').notNull(),
    reason: text('reason').notNull(),
    acknowledgedRecommendations: text('acknowledged_recommendations').array().notNull().default(sql`'{}'::text[]`),
    status: text('status', { enum: ['Pending', 'Approved', 'Rejected', 'Superseded'] }).notNull().default('Pending'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedBy: text('decided_by'),
  },
  (t) => [uniqueIndex('release_requests_pending_uq').on(t.restrictionId).where(sql`${t.status} = 'Pending'`)],
);
