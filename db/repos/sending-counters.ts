import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import { rolledBack, rowsOf, type Db } from '../client.ts';
import { countedRecipients, leaseGiveBacks, sendingCounters, sendingLeases, sendingWarnings } from '../schema/sending-counters.ts';

export const recordOutcomes = [
  'restricted',
  'duplicate',
  'too_many_recipients',
  'rate_deferred',
  'limit_restrict',
  'service_limit',
  'accepted',
  'accepted_over_limit',
  'leased_elsewhere',
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
  /** The caller's own leases for this sender, settled and closed before the decision. */
  close?: readonly LeaseSettlement[];
  /** Recipients of a lease to take when this one is accepted (0: none). */
  leaseWant?: number;
}

/** A recipient accepted under a lease, recorded when the lease is settled. */
export interface LeasedRecipient {
  instance: string;
  recipient: string;
  /** When it was accepted, in epoch milliseconds (written out only when reported). */
  at: number;
  /** Whether the lease counted a message with it (the first recipient of its message this process saw). */
  newMessage: boolean;
}

/**
 * What a holder reports about one lease: recipients and new messages used since it was granted
 * (totals, so reports may land in any order), and the recipients accepted since the last report.
 */
export interface LeaseSettlement {
  lease: string;
  tenantId: string;
  sender: string;
  internal: boolean;
  used: number;
  usedMessages: number;
  final: boolean;
  recipients: readonly LeasedRecipient[];
  /**
   * The minute the lease was granted and counted in (epoch milliseconds): a recipient reported
   * that someone else counted too is given back there (migration 0014).
   */
  bucket: number;
  /**
   * A live lease still in use may be extended until `to` (see migration 0011); `from` is when the
   * holder found it live. Final reports extend nothing.
   */
  extend?: { from: Date; to: Date } | undefined;
}

/** A lease a report extended, and until when the holder may use it. */
export interface LeaseExtension {
  lease: string;
  until: Date;
}

/** Quota granted with an accepted recipient (see migration 0006). */
export interface LeaseGrant {
  id: string;
  recipients: number;
  messages: number;
  expiresAt: Date;
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
  lease: LeaseGrant | null;
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
  lease_id: string | null;
  lease_recipients: number | null;
  lease_messages: number | null;
  lease_expires_at: Date | string | null;
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
    lease: row.lease_id && row.lease_expires_at
      ? { id: row.lease_id, recipients: Number(row.lease_recipients), messages: Number(row.lease_messages), expiresAt: new Date(row.lease_expires_at) }
      : null,
  };
}

function settlementItem(s: LeaseSettlement) {
  return {
    lease: s.lease, used: s.used, used_messages: s.usedMessages, final: s.final,
    recipients: {
      tenant: s.tenantId, sender: s.sender, internal: s.internal, bucket: new Date(s.bucket).toISOString(),
      rows: s.recipients.map((r) => ({ instance: r.instance, recipient: r.recipient, at: new Date(r.at).toISOString(), new_message: r.newMessage })),
    },
    extend_from: s.extend?.from.toISOString() ?? null, extend_to: s.extend?.to.toISOString() ?? null,
  };
}

/** The usage report's statement; `prepareCounting` runs the same one, so it is prepared too. */
function settleStatement(settlements: readonly LeaseSettlement[]) {
  return sql`select * from sendguard_settle_leases(${JSON.stringify(settlements.map(settlementItem))}::jsonb)`;
}

/**
 * Settles leases in one transaction (`sendguard_settle_leases`); settling one twice is harmless.
 * Returns the leases the database extended.
 */
export async function settleLeases(db: Db, settlements: readonly LeaseSettlement[]): Promise<LeaseExtension[]> {
  if (settlements.length === 0) return [];
  const rows = await rowsOf<{ extended_lease: string; extended_until: Date | string }>(
    db,
    settleStatement(settlements),
  );
  return rows.map((r) => ({ lease: r.extended_lease, until: new Date(r.extended_until) }));
}

/** Marks a sender's leases recalled, so usage reports extend them no more (migration 0011). */
export async function markLeasesRecalled(db: Db, tenantId: string, sender: string): Promise<void> {
  await db.execute(sql`select sendguard_mark_leases_recalled(${tenantId}, ${sender})`);
}

export interface RecordOptions {
  durable?: boolean;
  /** How long a granted lease lasts; 0 grants none. */
  leaseMs?: number;
  /** Leases stop short of this share of a limit, where warnings start. */
  leasePercent?: number;
}

interface BatchRow extends RecordRow {
  ord: number;
}

/**
 * Decides and counts several recipients in one round trip and one transaction (see
 * `sendguard_record_recipients`): each decided on its own, in the order given.
 * `durable: false` lets the commit return before the WAL is flushed (see migration 0003).
 */
export async function recordRecipients(db: Db, inputs: readonly RecordRecipientInput[], options: RecordOptions = {}): Promise<RecordRecipientResult[]> {
  const items = inputs.map((i) => ({
    tenant: i.tenantId, sender: i.sender, instance: i.instance, recipient: i.recipient, internal: i.internal, at: i.now.toISOString(),
    limit_internal_hour: i.limitInternalPerHour, limit_external_hour: i.limitExternalPerHour, limit_day: i.limitPerDay,
    restricts: i.restricts, service_day: i.serviceRecipientsPerDay, messages_per_minute: i.messagesPerMinute,
    recipients_per_message: i.recipientsPerMessage,
    close: i.close && i.close.length > 0 ? i.close.map(settlementItem) : null, lease_want: i.leaseWant ?? 0,
  }));
  const rows = await rowsOf<BatchRow>(
    db,
    sql`select * from sendguard_record_recipients(${JSON.stringify(items)}::jsonb, ${options.durable ?? true}::boolean,
          ${options.leaseMs ?? 0}::integer, ${options.leasePercent ?? 100}::integer)`,
  );
  const results = new Array<RecordRecipientResult | undefined>(inputs.length);
  for (const row of rows) results[Number(row.ord) - 1] = toResult(row);
  return results.map((r, k) => {
    if (!r) throw new Error(`sendguard_record_recipients returned no row for item ${k + 1}`);
    return r;
  });
}

/** The sender and message of the placeholder recipient `prepareCounting` decides and rolls back. */
const PLACEHOLDER = 'counting-prepared@sendguard.invalid';

/**
 * Readies one connection for counting: PostgreSQL compiles a PL/pgSQL function and plans each of
 * its statements the first time a connection runs it, which took a new connection about 25 ms
 * for `sendguard_record_recipients`, and the recipients that queued behind it waited as long.
 * Here a placeholder recipient of the first tenant is decided (a lease taken when `leaseMs` is
 * set) and an empty usage report settled, in a transaction that is rolled back, so nothing is
 * counted. Without a tenant there is nothing to count yet, and nothing is done.
 */
export async function prepareCounting(db: Db, options: RecordOptions): Promise<void> {
  await rolledBack(db, async (tx) => {
    const [tenant] = await rowsOf<{ id: string }>(tx, sql`select id from tenants order by id limit 1`);
    if (!tenant) return;
    await recordRecipients(tx, [{
      tenantId: tenant.id, sender: PLACEHOLDER, instance: PLACEHOLDER, recipient: PLACEHOLDER, internal: false, now: new Date(),
      limitInternalPerHour: 100, limitExternalPerHour: 100, limitPerDay: 100, restricts: true,
      serviceRecipientsPerDay: 100, messagesPerMinute: 100, recipientsPerMessage: 100, leaseWant: 1,
    }], { ...options, leasePercent: 100 });
    await tx.execute(settleStatement([]));
  });
}

/**
 * What the policy limits count: recipients in the rolling windows since the sender's latest limit
 * restriction was lifted (as `sendguard_record_recipients` counts them), and the full rolling
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
  // The unused part of live leases is in the counters (so limits see it) but not yet sent: it is
  // left out here, so these are the recipients actually accepted.
  const [row] = await rowsOf<CountsRow>(
    db,
    sql`with lifted as (
          select max(case when r.status = 'Released' then r.released_at else r.expires_at end) as lifted,
                 max(sendguard_counting_restart(r.created_at, case when r.status = 'Released' then r.released_at else r.expires_at end)) as reset
            from restrictions r
           where r.tenant_id = ${tenantId} and r.entity_kind = 'user' and r.entity_key = ${sender} and r.reason_code = 'SendingLimitExceeded'
             and (r.status in ('Released', 'Expired') or (r.status = 'Restricted' and r.expires_at <= ${at}))
        ), since as (
          select case when lifted > ${minute} - interval '1440 minutes' then reset end as reset from lifted
        ), leased as (
          select coalesce(sum(greatest(l.recipients - l.used, 0)) filter (where l.internal), 0)::int as internal,
                 coalesce(sum(greatest(l.recipients - l.used, 0)) filter (where not l.internal), 0)::int as external,
                 coalesce(sum(greatest(l.messages - l.used_messages, 0)) filter (where l.bucket = ${minute}), 0)::int as messages
            from sending_leases l
           where l.tenant_id = ${tenantId} and l.sender = ${sender} and l.expires_at > ${at} - interval '2 seconds'
        ), counted as (
          select coalesce(sum(c.internal) filter (where c.bucket > ${minute} - interval '60 minutes' and (s.reset is null or c.bucket >= s.reset)), 0)::int as internal_hour,
                 coalesce(sum(c.external) filter (where c.bucket > ${minute} - interval '60 minutes' and (s.reset is null or c.bucket >= s.reset)), 0)::int as external_hour,
                 coalesce(sum(c.internal) filter (where s.reset is null or c.bucket >= s.reset), 0)::int as internal_day,
                 coalesce(sum(c.external) filter (where s.reset is null or c.bucket >= s.reset), 0)::int as external_day,
                 coalesce(sum(c.internal + c.external), 0)::int as all_day,
                 coalesce(sum(c.messages) filter (where c.bucket = ${minute}), 0)::int as minute_messages,
                 max(s.reset) as counted_since
            from since s
            left join sending_counters c
              on c.tenant_id = ${tenantId} and c.sender = ${sender} and c.bucket > ${minute} - interval '1440 minutes'
        )
        select greatest(k.internal_hour - l.internal, 0) as internal_hour, greatest(k.external_hour - l.external, 0) as external_hour,
               greatest(k.internal_day - l.internal, 0) as internal_day, greatest(k.external_day - l.external, 0) as external_day,
               greatest(k.all_day - l.internal - l.external, 0) as all_day, greatest(k.minute_messages - l.messages, 0) as minute_messages,
               k.counted_since
          from counted k cross join leased l`,
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
  const givenBack = await db.delete(leaseGiveBacks).where(lt(leaseGiveBacks.createdAt, cut.recipients)).returning({ s: leaseGiveBacks.lease });
  const warnings = await db.delete(sendingWarnings).where(lt(sendingWarnings.windowStart, cut.warnings)).returning({ s: sendingWarnings.sender });
  // Leases of a process that stopped without settling: their unused part stays counted.
  const leases = await db.delete(sendingLeases).where(lt(sendingLeases.expiresAt, cut.recipients)).returning({ s: sendingLeases.sender });
  return counters.length + recipients.length + givenBack.length + warnings.length + leases.length;
}
