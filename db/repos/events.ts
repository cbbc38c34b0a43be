import { and, asc, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { events } from '../schema/events.ts';
import { EVENTS_CHANNEL, type NewEvent, type StoredEvent } from '../../domain/events/event-types.ts';

// Serialises event writers so that ids become visible in commit order: a reader that has
// seen id N can never later find a committed id below N. Restriction events are rare, so the
// contention is negligible; the lock is held only until the writing transaction commits.
const EVENTS_WRITE_LOCK = 7_336_411_002;

/** Appends an event inside the caller's transaction; the NOTIFY (carrying only the id) is sent at commit. */
export async function appendEvent(tx: Db, event: NewEvent): Promise<StoredEvent> {
  await tx.execute(sql`select pg_advisory_xact_lock(${EVENTS_WRITE_LOCK})`);
  const [row] = await tx.insert(events).values(event).returning();
  if (!row) throw new Error('event insert returned no row');
  await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${String(row.id)})`);
  return toStored(row);
}

export async function readEventsAfter(db: Db, afterId: number, limit: number, tenantId?: string): Promise<StoredEvent[]> {
  const where = tenantId === undefined ? gt(events.id, afterId) : and(gt(events.id, afterId), eq(events.tenantId, tenantId));
  const rows = await db.select().from(events).where(where).orderBy(asc(events.id)).limit(limit);
  return rows.map(toStored);
}

export async function lastEventId(db: Db): Promise<number> {
  const [row] = await db.select({ id: sql<number | null>`max(${events.id})` }).from(events);
  return Number(row?.id ?? 0);
}

function toStored(row: typeof events.$inferSelect): StoredEvent {
  return { ...row, id: Number(row.id), payload: row.payload as Record<string, unknown> };
}

/**
 * The id just before the first event that occurred at or after `since` (looking back from
 * `throughId`). Walks the primary key backwards, so it reads only the recent events.
 */
export async function eventIdBefore(db: Db, since: Date, throughId: number): Promise<number> {
  let cursor = throughId;
  for (;;) {
    const page = await db
      .select({ id: events.id, occurredAt: events.occurredAt })
      .from(events)
      .where(lte(events.id, cursor))
      .orderBy(desc(events.id))
      .limit(1000);
    const older = page.find((e) => e.occurredAt < since);
    if (older) return Number(older.id);
    const last = page[page.length - 1];
    if (!last || page.length < 1000) return 0;
    cursor = Number(last.id) - 1;
  }
}

/** Events of the given types with ids in (afterId, throughId], oldest first. */
export async function readEventsOfTypes(
  db: Db,
  q: { types: readonly string[]; afterId: number; throughId: number; limit: number },
): Promise<StoredEvent[]> {
  if (q.types.length === 0) return [];
  const rows = await db
    .select()
    .from(events)
    .where(and(gt(events.id, q.afterId), lte(events.id, q.throughId), inArray(events.type, [...q.types])))
    .orderBy(asc(events.id))
    .limit(q.limit);
  return rows.map(toStored);
}
