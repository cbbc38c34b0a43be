import { and, asc, count, desc, eq, gt, gte, inArray, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { alertStreamMarks, alerts, notifications, type alertKinds, type alertSeverities, type alertStatuses } from '../schema/alerts.ts';
import { roleAssignments } from '../schema/role-assignments.ts';
import { teamsConversations } from '../schema/teams.ts';

export type Alert = typeof alerts.$inferSelect;
export type NewAlert = typeof alerts.$inferInsert;
export type AlertKind = (typeof alertKinds)[number];
export type AlertSeverity = (typeof alertSeverities)[number];
export type AlertStatus = (typeof alertStatuses)[number];
export type Notification = typeof notifications.$inferSelect;
export type NewNotification = typeof notifications.$inferInsert;

/** One alert stream: a policy watching one entity. */
export interface AlertKey {
  tenantId: string;
  policyId: string;
  entityKind: string;
  entityKey: string;
}

function keyIs(key: AlertKey): SQL | undefined {
  return and(eq(alerts.tenantId, key.tenantId), eq(alerts.policyId, key.policyId), eq(alerts.entityKind, key.entityKind), eq(alerts.entityKey, key.entityKey));
}

function markIs(key: AlertKey): SQL | undefined {
  const m = alertStreamMarks;
  return and(eq(m.tenantId, key.tenantId), eq(m.policyId, key.policyId), eq(m.entityKind, key.entityKind), eq(m.entityKey, key.entityKey));
}

/** Serialises every writer of one alert stream until the transaction ends, whatever process it runs in. */
export async function lockAlertKey(tx: Db, key: AlertKey): Promise<void> {
  const text = [key.tenantId, key.policyId, key.entityKind, key.entityKey].join('\u001f');
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${text}, 11))`);
}

// The id of the newest event folded into an alert is kept in `details.sourceEventId` because the
// alerts table has no column for it; these two functions are the only places that know that.
// With an `alerts.source_event_id bigint` column they become a plain column read and write.
export async function lastSourceEventId(tx: Db, key: AlertKey): Promise<number> {
  const [row] = await tx
    .select({ id: sql<string | null>`max((${alerts.details}->>'sourceEventId')::bigint)` })
    .from(alerts)
    .where(keyIs(key));
  const [mark] = await tx
    .select({ id: alertStreamMarks.lastEventId })
    .from(alertStreamMarks)
    .where(markIs(key));
  return Math.max(Number(row?.id ?? 0), mark?.id ?? 0);
}

/** Records that the stream took `eventId` without raising anything (alerts were off). */
export async function markAlertStream(tx: Db, key: AlertKey, eventId: number): Promise<void> {
  await tx
    .insert(alertStreamMarks)
    .values({ ...key, lastEventId: eventId })
    .onConflictDoUpdate({
      target: [alertStreamMarks.tenantId, alertStreamMarks.policyId, alertStreamMarks.entityKind, alertStreamMarks.entityKey],
      set: { lastEventId: sql`greatest(${alertStreamMarks.lastEventId}, excluded.last_event_id)` },
    });
}

function withSourceEvent(details: object, sourceEventId: number): Record<string, unknown> {
  return { ...details, sourceEventId };
}

export async function insertAlert(tx: Db, values: NewAlert & { details: object }, sourceEventId: number): Promise<Alert> {
  const [row] = await tx
    .insert(alerts)
    .values({ ...values, details: withSourceEvent(values.details, sourceEventId) })
    .returning();
  if (!row) throw new Error('alert insert returned no row');
  return row;
}

/** The open alert of a stream whose occurrences reach into `span` (last seen at or after `from`, first at or before `to`), locked for the hit-count update. */
export async function findAggregatableAlert(tx: Db, key: AlertKey, span: { from: Date; to: Date }): Promise<Alert | undefined> {
  const [row] = await tx
    .select()
    .from(alerts)
    .where(and(keyIs(key), ne(alerts.status, 'Resolved'), gte(alerts.lastSeenAt, span.from), lte(alerts.firstSeenAt, span.to)))
    .orderBy(desc(alerts.lastSeenAt), desc(alerts.id))
    .limit(1)
    .for('update');
  return row;
}

/**
 * A repeat: the count goes up, and the alert now tells of the latest occurrence (its title too: the
 * limit may be another). Events are handled in commit order, not always the order they happened
 * in: one that happened before the latest seen only widens the span and moves the source event on.
 */
export async function recordAlertHit(tx: Db, id: string, hit: { seenAt: Date; title: string; details: object; at: Date }, sourceEventId: number): Promise<Alert> {
  const seenAt = sql`${hit.seenAt.toISOString()}::timestamptz`;
  const latest = sql`${seenAt} >= ${alerts.lastSeenAt}`;
  const [row] = await tx
    .update(alerts)
    .set({
      hitCount: sql`${alerts.hitCount} + 1`,
      firstSeenAt: sql`least(${alerts.firstSeenAt}, ${seenAt})`,
      lastSeenAt: sql`greatest(${alerts.lastSeenAt}, ${seenAt})`,
      title: sql`case when ${latest} then ${hit.title} else ${alerts.title} end`,
      details: sql`case when ${latest} then ${JSON.stringify(withSourceEvent(hit.details, sourceEventId))}::jsonb
        else ${alerts.details} || jsonb_build_object('sourceEventId', ${sourceEventId}::bigint) end`,
      updatedAt: hit.at,
    })
    .where(eq(alerts.id, id))
    .returning();
  if (!row) throw new Error(`alert ${id} vanished`);
  return row;
}

/** The newest alert of a stream about one restriction, whatever its status, locked for an update. */
export async function findRestrictionAlert(tx: Db, key: AlertKey, restrictionId: string): Promise<Alert | undefined> {
  const [row] = await tx
    .select()
    .from(alerts)
    .where(and(keyIs(key), eq(alerts.restrictionId, restrictionId)))
    .orderBy(desc(alerts.firstSeenAt), desc(alerts.id))
    .limit(1)
    .for('update');
  return row;
}

/** The alert now tells of its restriction as it stands (made to last longer); no new occurrence, so no hit. */
export async function updateAlertDetails(tx: Db, id: string, change: { title: string; details: object; at: Date }, sourceEventId: number): Promise<Alert> {
  const [row] = await tx
    .update(alerts)
    .set({ title: change.title, details: withSourceEvent(change.details, sourceEventId), updatedAt: change.at })
    .where(eq(alerts.id, id))
    .returning();
  if (!row) throw new Error(`alert ${id} vanished`);
  return row;
}

export async function findAlert(db: Db, tenantId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<Alert | undefined> {
  const query = db.select().from(alerts).where(and(eq(alerts.tenantId, tenantId), eq(alerts.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findAlertsByIds(db: Db, ids: readonly string[]): Promise<Alert[]> {
  if (ids.length === 0) return [];
  return db.select().from(alerts).where(anyOf(alerts.id, ids));
}

export async function findTenantAlertsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<Alert[]> {
  if (ids.length === 0) return [];
  return db.select().from(alerts).where(and(eq(alerts.tenantId, tenantId), anyOf(alerts.id, ids)));
}

export async function setAlertStatus(tx: Db, id: string, change: { status: AlertStatus; by: string; at: Date }): Promise<Alert> {
  const [row] = await tx
    .update(alerts)
    .set({ status: change.status, statusChangedBy: change.by, updatedAt: change.at })
    .where(eq(alerts.id, id))
    .returning();
  if (!row) throw new Error(`alert ${id} vanished`);
  return row;
}

export interface AlertListFilter {
  tenantId: string;
  statuses?: AlertStatus[] | undefined;
  severities?: AlertSeverity[] | undefined;
  kinds?: AlertKind[] | undefined;
  policyId?: string | undefined;
  entityKey?: string | undefined;
  /** On `first_seen_at`, inclusive. */
  from?: Date | undefined;
  to?: Date | undefined;
}

function alertFilter(f: AlertListFilter): SQL[] {
  const conditions: SQL[] = [eq(alerts.tenantId, f.tenantId)];
  if (f.statuses?.length) conditions.push(inArray(alerts.status, f.statuses));
  if (f.severities?.length) conditions.push(inArray(alerts.severity, f.severities));
  if (f.kinds?.length) conditions.push(inArray(alerts.kind, f.kinds));
  if (f.policyId) conditions.push(eq(alerts.policyId, f.policyId));
  if (f.entityKey) conditions.push(eq(alerts.entityKey, f.entityKey.trim().toLowerCase()));
  if (f.from) conditions.push(gte(alerts.firstSeenAt, f.from));
  if (f.to) conditions.push(lte(alerts.firstSeenAt, f.to));
  return conditions;
}

/** Newest first by `first_seen_at, id` (or oldest first when `ascending`), strictly beyond `after` (or from it, when inclusive). */
export async function listAlerts(
  db: Db,
  q: AlertListFilter & { ascending: boolean; after?: { firstSeenAt: Date; id: string; inclusive?: boolean } | undefined; limit: number },
): Promise<Alert[]> {
  const conditions = alertFilter(q);
  const beyond = q.ascending ? gt : lt;
  if (q.after) {
    const beyondId = q.after.inclusive ? (q.ascending ? gte : lte) : beyond;
    const keyset = or(beyond(alerts.firstSeenAt, q.after.firstSeenAt), and(eq(alerts.firstSeenAt, q.after.firstSeenAt), beyondId(alerts.id, q.after.id)));
    if (keyset) conditions.push(keyset);
  }
  const direction = q.ascending ? asc : desc;
  return db
    .select()
    .from(alerts)
    .where(and(...conditions))
    .orderBy(direction(alerts.firstSeenAt), direction(alerts.id))
    .limit(q.limit);
}

export async function countAlerts(db: Db, f: AlertListFilter): Promise<number> {
  const [row] = await db.select({ n: count() }).from(alerts).where(and(...alertFilter(f)));
  return Number(row?.n ?? 0);
}

/** Principals holding `role` in the tenant (lower-cased ids). */
export async function principalsWithRole(db: Db, tenantId: string, role: string): Promise<string[]> {
  const rows = await db
    .select({ principalId: roleAssignments.principalId })
    .from(roleAssignments)
    .where(and(eq(roleAssignments.tenantId, tenantId), sql`lower(${roleAssignments.role}) = lower(${role})`))
    .orderBy(asc(roleAssignments.principalId));
  return rows.map((r) => r.principalId.toLowerCase());
}

export async function subscribedConversationIds(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db
    .select({ conversationId: teamsConversations.conversationId })
    .from(teamsConversations)
    .where(and(eq(teamsConversations.tenantId, tenantId), eq(teamsConversations.subscribed, true)))
    .orderBy(asc(teamsConversations.conversationId));
  return rows.map((r) => r.conversationId);
}

/** Serialises the daily-limit decision of one policy for one UTC day. */
export async function lockNotificationDay(tx: Db, policyId: string, day: Date): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${policyId}\u001f${day.toISOString()}`}, 12))`);
}

/** Alerts of a policy first seen in [from, to) that notified anyone (not suppressed). */
export async function countNotifiedAlerts(tx: Db, policyId: string, from: Date, to: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(distinct ${notifications.alertId})::int` })
    .from(notifications)
    .innerJoin(alerts, eq(alerts.id, notifications.alertId))
    .where(and(eq(alerts.policyId, policyId), gte(alerts.firstSeenAt, from), lt(alerts.firstSeenAt, to), ne(notifications.status, 'Suppressed')));
  return Number(row?.n ?? 0);
}

export async function insertNotifications(tx: Db, rows: NewNotification[]): Promise<Notification[]> {
  if (rows.length === 0) return [];
  return tx.insert(notifications).values(rows).onConflictDoNothing().returning();
}

export async function listAlertNotifications(db: Db, tenantId: string, alertId: string, limit: number): Promise<Notification[]> {
  return db
    .select()
    .from(notifications)
    .where(and(eq(notifications.tenantId, tenantId), eq(notifications.alertId, alertId)))
    .orderBy(asc(notifications.channel), asc(notifications.recipient))
    .limit(limit);
}
