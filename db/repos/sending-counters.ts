import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../client.ts';
import { countedRecipients, sendingCounters, sendingWarnings } from '../schema/sending-counters.ts';

export const recordOutcomes = [
  'restricted',
  'duplicate',
  'too_many_recipients',
  'rate_deferred',
  'limit_restrict',
  'service_limit',
  'accepted',
  'accepted_over_limit',
] as const;
export type RecordOutcome = (typeof recordOutcomes)[number];

export interface RecordRecipientInput {
  tenantId: string;
  /** The counted identity (SASL user name or envelope sender), lower-cased. */
  sender: string;
  instance: string | null;
  recipient: string;
  internal: boolean;
  now: Date;
  limitInternalPerHour: number;
  limitExternalPerHour: number;
  limitPerDay: number;
  /** Whether crossing a policy limit restricts (BlockUser, BlockUserForToday) or only alerts. */
  restricts: boolean;
  serviceRecipientsPerDay: number;
  messagesPerMinute: number;
  recipientsPerMessage: number;
}

/** Counts in the windows, after the recipient when it was accepted, before it otherwise. */
export interface RecordRecipientResult {
  outcome: RecordOutcome;
  exceededLimit: string | null;
  internalHour: number;
  externalHour: number;
  internalDay: number;
  externalDay: number;
  messageRecipients: number;
  restrictionId: string | null;
}

interface RecordRow {
  outcome: RecordOutcome;
  exceeded_limit: string | null;
  internal_hour: number;
  external_hour: number;
  internal_day: number;
  external_day: number;
  message_recipients: number;
  restriction_id: string | null;
}

function toResult(row: RecordRow): RecordRecipientResult {
  return {
    outcome: row.outcome,
    exceededLimit: row.exceeded_limit,
    internalHour: Number(row.internal_hour),
    externalHour: Number(row.external_hour),
    internalDay: Number(row.internal_day),
    externalDay: Number(row.external_day),
    messageRecipients: Number(row.message_recipients),
    restrictionId: row.restriction_id,
  };
}

interface BatchRow extends RecordRow {
  ord: number;
}

/**
 * Decides and counts several recipients in one round trip and one transaction (see
 * `sendguard_record_recipients`): each as `sendguard_record_recipient` decides it, in the order given.
 * `durable: false` lets the commit return before the WAL is flushed (see migration 0003).
 */
export async function recordRecipients(db: Db, inputs: readonly RecordRecipientInput[], options: { durable?: boolean } = {}): Promise<RecordRecipientResult[]> {
  const items = inputs.map((i) => ({
    tenant: i.tenantId, sender: i.sender, instance: i.instance, recipient: i.recipient, internal: i.internal, at: i.now.toISOString(),
    limit_internal_hour: i.limitInternalPerHour, limit_external_hour: i.limitExternalPerHour, limit_day: i.limitPerDay,
    restricts: i.restricts, service_day: i.serviceRecipientsPerDay, messages_per_minute: i.messagesPerMinute,
    recipients_per_message: i.recipientsPerMessage,
  }));
  const rows = await rowsOf<BatchRow>(db, sql`select * from sendguard_record_recipients(${JSON.stringify(items)}::jsonb, ${options.durable ?? true}::boolean)`);
  const results = new Array<RecordRecipientResult | undefined>(inputs.length);
  for (const row of rows) results[Number(row.ord) - 1] = toResult(row);
  return results.map((r, k) => {
    if (!r) throw new Error(`sendguard_record_recipients returned no row for item ${k + 1}`);
    return r;
  });
}

/**
 * What the policy limits count: recipients in the rolling windows since the sender's latest limit
 * restriction was lifted (as `sendguard_record_recipient` counts them), and the full rolling
 * 24 hours that the service limit counts.
 */
export interface SenderCounts {
  internalLastHour: number;
  externalLastHour: number;
  internalLast24Hours: number;
  externalLast24Hours: number;
  /** Every recipient in the last 24 hours, lifted restrictions or not (the service limit). */
  allLast24Hours: number;
  messagesThisMinute: number;
  /** When counting restarted because a limit restriction ended; null when it did not within 24 hours. */
  countedSince: Date | null;
}

interface CountsRow {
  internal_hour: number;
  external_hour: number;
  internal_day: number;
  external_day: number;
  all_day: number;
  minute_messages: number;
  counted_since: Date | string | null;
}

export async function senderCounts(db: Db, tenantId: string, sender: string, now: Date): Promise<SenderCounts> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const minute = sql`date_trunc('minute', ${at})`;
  const [row] = await rowsOf<CountsRow>(
    db,
    sql`with lifted as (
          select date_trunc('minute', max(case when r.status = 'Released' then r.released_at else r.expires_at end)) as reset
            from restrictions r
           where r.tenant_id = ${tenantId} and r.entity_kind = 'user' and r.entity_key = ${sender} and r.reason_code = 'SendingLimitExceeded'
             and (r.status in ('Released', 'Expired') or (r.status = 'Restricted' and r.expires_at <= ${at}))
        ), since as (
          select case when reset > ${minute} - interval '1440 minutes' then reset end as reset from lifted
        )
        select coalesce(sum(c.internal) filter (where c.bucket > ${minute} - interval '60 minutes' and (s.reset is null or c.bucket >= s.reset)), 0)::int as internal_hour,
               coalesce(sum(c.external) filter (where c.bucket > ${minute} - interval '60 minutes' and (s.reset is null or c.bucket >= s.reset)), 0)::int as external_hour,
               coalesce(sum(c.internal) filter (where s.reset is null or c.bucket >= s.reset), 0)::int as internal_day,
               coalesce(sum(c.external) filter (where s.reset is null or c.bucket >= s.reset), 0)::int as external_day,
               coalesce(sum(c.internal + c.external), 0)::int as all_day,
               coalesce(sum(c.messages) filter (where c.bucket = ${minute}), 0)::int as minute_messages,
               max(s.reset) as counted_since
          from since s
          left join sending_counters c
            on c.tenant_id = ${tenantId} and c.sender = ${sender} and c.bucket > ${minute} - interval '1440 minutes'`,
  );
  return {
    internalLastHour: Number(row?.internal_hour ?? 0),
    externalLastHour: Number(row?.external_hour ?? 0),
    internalLast24Hours: Number(row?.internal_day ?? 0),
    externalLast24Hours: Number(row?.external_day ?? 0),
    allLast24Hours: Number(row?.all_day ?? 0),
    messagesThisMinute: Number(row?.minute_messages ?? 0),
    countedSince: row?.counted_since ? new Date(row.counted_since) : null,
  };
}

/** The one-minute buckets in the rolling 24-hour window, oldest first. */
export async function dayBuckets(db: Db, tenantId: string, sender: string, since: Date): Promise<{ bucket: Date; recipients: number }[]> {
  const rows = await db
    .select({ bucket: sendingCounters.bucket, internal: sendingCounters.internal, external: sendingCounters.external })
    .from(sendingCounters)
    .where(and(eq(sendingCounters.tenantId, tenantId), eq(sendingCounters.sender, sender), gt(sendingCounters.bucket, since)))
    .orderBy(asc(sendingCounters.bucket));
  return rows.map((r) => ({ bucket: r.bucket, recipients: r.internal + r.external }));
}

/** Records that a warning fired for this sender, limit and window; false when it already had. */
export async function insertSendingWarning(tx: Db, w: { tenantId: string; sender: string; limitType: string; windowStart: Date; at: Date }): Promise<boolean> {
  const rows = await tx
    .insert(sendingWarnings)
    .values({ tenantId: w.tenantId, sender: w.sender, limitType: w.limitType, windowStart: w.windowStart, createdAt: w.at })
    .onConflictDoNothing()
    .returning({ sender: sendingWarnings.sender });
  return rows.length > 0;
}

/** Deletes counting history no window reads any more; returns how many rows went. */
export async function pruneSendingHistory(db: Db, cut: { counters: Date; recipients: Date; warnings: Date }): Promise<number> {
  const counters = await db.delete(sendingCounters).where(lt(sendingCounters.bucket, cut.counters)).returning({ s: sendingCounters.sender });
  const recipients = await db.delete(countedRecipients).where(lt(countedRecipients.createdAt, cut.recipients)).returning({ s: countedRecipients.sender });
  const warnings = await db.delete(sendingWarnings).where(lt(sendingWarnings.windowStart, cut.warnings)).returning({ s: sendingWarnings.sender });
  return counters.length + recipients.length + warnings.length;
}
