import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { notifications } from '../schema/alerts.ts';
import type { Notification } from './alerts.ts';

export type NotificationChannel = Notification['channel'];

/**
 * Claims due notifications of the given channels: marks them `Sending`, counts the attempt and
 * leases them until `leaseUntil`. SKIP LOCKED lets several workers claim side by side; a
 * `Sending` row whose lease ran out (its worker died) is due again.
 */
export async function claimDueNotifications(
  db: Db,
  q: { channels: NotificationChannel[]; now: Date; leaseUntil: Date; limit: number },
): Promise<Notification[]> {
  if (q.channels.length === 0) return [];
  const due = db
    .select({ id: notifications.id })
    .from(notifications)
    .where(and(inArray(notifications.status, ['Pending', 'Sending']), inArray(notifications.channel, q.channels), lte(notifications.nextAttemptAt, q.now)))
    .orderBy(asc(notifications.nextAttemptAt), asc(notifications.id))
    .limit(q.limit)
    .for('update', { skipLocked: true });
  return db
    .update(notifications)
    .set({ status: 'Sending', attempts: sql`${notifications.attempts} + 1`, nextAttemptAt: q.leaseUntil })
    .where(inArray(notifications.id, due))
    .returning();
}

/** Only the claim that is still current (same attempt, still `Sending`) may settle a notification. */
function stillClaimed(n: Pick<Notification, 'id' | 'attempts'>) {
  return and(eq(notifications.id, n.id), eq(notifications.status, 'Sending'), eq(notifications.attempts, n.attempts));
}

export async function markNotificationSent(db: Db, n: Pick<Notification, 'id' | 'attempts'>, at: Date): Promise<boolean> {
  const rows = await db.update(notifications).set({ status: 'Sent', sentAt: at, lastError: null }).where(stillClaimed(n)).returning({ id: notifications.id });
  return rows.length > 0;
}

export async function markNotificationRetry(db: Db, n: Pick<Notification, 'id' | 'attempts'>, retryAt: Date, error: string): Promise<void> {
  await db.update(notifications).set({ status: 'Pending', nextAttemptAt: retryAt, lastError: error }).where(stillClaimed(n));
}

export async function markNotificationFailed(db: Db, n: Pick<Notification, 'id' | 'attempts'>, error: string): Promise<void> {
  await db.update(notifications).set({ status: 'Failed', lastError: error }).where(stillClaimed(n));
}

export async function findNotification(db: Db, id: string): Promise<Notification | undefined> {
  const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
  return row;
}
