import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Append-only event log. Writers take one advisory lock before inserting (see
 * db/repos/events.ts), so ids become visible in commit order and readers can resume by id.
 */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    entityKind: text('entity_kind').notNull(),
    entityKey: text('entity_key').notNull(),
    payload: jsonb('payload').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('events_tenant_idx').on(t.tenantId, t.id)],
);
