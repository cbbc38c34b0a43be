import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf, type Database, type Db } from '../../db/client.ts';
import { events } from '../../db/schema/events.ts';
import { restrictions } from '../../db/schema/restrictions.ts';
import { countedRecipients, leaseGiveBacks, sendingCounters, sendingLeases } from '../../db/schema/sending-counters.ts';
import { recordRecipients, settleLeases, type LeaseSettlement } from '../../db/repos/sending-counters.ts';
import { appendEvent } from '../../db/repos/events.ts';
import type { Decision } from '../../domain/enforcement/decision.ts';
import { createHistoryPruner } from '../../domain/enforcement/history-pruner.ts';
import { createLeaseKeeper, defaultReportMs, SETTLE_CHUNK } from '../../domain/enforcement/lease-keeper.ts';
import { recordConfigChange } from '../../domain/tenants/config-change.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, onPostgres, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { policyActor, testServices } from '../helpers/services.ts';

// Quota leases (migration 0006): recipients far from every limit are answered from memory, and
// the counts, warnings, restrictions and refusals stay exactly what they are without leases.

let database: TestDatabase;
let settlements = 0;
/** The recipients' items of every database decision, in order: how many there were, and whose. */
const decided: string[] = [];
const opened: Database[] = [];

beforeAll(async () => {
  database = await createTestDatabase({
    logQuery: (q, params) => {
      if (q.includes('sendguard_record_recipients(')) decided.push(String(params[0]));
      if (q.includes('sendguard_settle_leases(')) settlements++;
    },
  });
});
afterAll(async () => {
  for (const d of opened) await d.close();
  await database.close();
});

const reply = (d: Decision) => (d.verdict === 'accept' ? 'accept' : `${d.smtpCode} ${d.enhancedCode}`);

/** A second handle on the same database, as a second process has (PGlite: the same one). */
async function secondHandle(): Promise<Database> {
  if (!database.url) return database;
  const other = await openDatabase({ databaseUrl: database.url, dataDir: 'memory', migrate: false, maxConnections: 5 });
  opened.push(other);
  return other;
}

async function setup(limit: number, env: Record<string, string> = {}) {
  const tenant = await createTestTenant(database);
  await setDefaultPolicy(database, tenant.id, { externalPerHour: limit, action: 'BlockUser' });
  const clock = manualClock('2026-11-26T10:00:05Z');
  // The service's 30 messages a minute would defer these tests' one-recipient messages.
  const settings = { SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: '10000', ...env };
  const services = testServices(database, clock, settings);
  return { tenant, clock, services, settings };
}

function sender(tenant: TestTenant, name = 'ann') {
  return tenant.address(name);
}

async function rows(tenant: TestTenant) {
  const [counters] = await database.db
    .select({ external: sql<number>`coalesce(sum(${sendingCounters.external}), 0)::int`, messages: sql<number>`coalesce(sum(${sendingCounters.messages}), 0)::int` })
    .from(sendingCounters)
    .where(eq(sendingCounters.tenantId, tenant.id));
  const leases = await database.db.select().from(sendingLeases).where(eq(sendingLeases.tenantId, tenant.id));
  const recipients = await database.db.select().from(countedRecipients).where(eq(countedRecipients.tenantId, tenant.id));
  return { external: counters?.external ?? 0, messages: counters?.messages ?? 0, leases: leases.length, recipients: recipients.length };
}

/** Two processes' services on one database, and a way to ask either about one sender, ann. */
async function twoProcesses() {
  const { tenant, clock, services: first, settings } = await setup(100);
  const second = testServices(await secondHandle(), clock, settings);
  const ann = sender(tenant);
  const ask = (services: typeof first, recipient: string, instance: string) => services.enforcement.checkRecipient({ sender: ann, recipient, instance }).then(reply);
  return { tenant, first, second, ask };
}

/**
 * ann's recipients decided at the database as a policy process asks (100 an hour, a lease wanted
 * or not), and usage reports of her lease naming the recipients m<k>/r<k> for each k given.
 */
function annAtTheDatabase(tenant: TestTenant) {
  const ann = sender(tenant);
  const at = '2026-11-26T10:00:05Z';
  const decide = (instance: string, recipient: string, leaseWant: number, db: Db = database.db) => recordRecipients(db, [{
    tenantId: tenant.id, sender: ann, instance, recipient, internal: false, now: new Date(at),
    limitInternalPerHour: 100, limitExternalPerHour: 100, limitPerDay: 1000, restricts: true, serviceRecipientsPerDay: 10_000,
    messagesPerMinute: 10_000, recipientsPerMessage: 500, leaseWant,
  }], { leaseMs: 2000, leasePercent: 80 });
  const report = (lease: string, used: number, final: boolean, ks: readonly number[]): LeaseSettlement => ({
    lease, tenantId: tenant.id, sender: ann, internal: false, used, usedMessages: used, final, bucket: Date.parse('2026-11-26T10:00:00Z'),
    recipients: ks.map((k) => ({ instance: `m${k}`, recipient: `r${k}@fabrikam.test`, at: Date.parse(at), newMessage: true })),
  });
  return { decide, report };
}

describe('quota leases', () => {
  it('answers a sender far from its limit from memory: one decision at the database for 20 recipients, and counts exactly those 20', async () => {
    const { tenant, services } = await setup(100);
    const ann = sender(tenant);
    const before = decided.length;
    const replies: string[] = [];
    for (let i = 0; i < 20; i++) replies.push(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` })));
    expect(replies).toEqual(Array(20).fill('accept'));
    expect(decided.length - before).toBe(1);

    const activity = await services.enforcement.getSenderActivity(tenant.id, ann);
    expect(activity.counts).toMatchObject({ externalLastHour: 20, externalLast24Hours: 20, allLast24Hours: 20, messagesThisMinute: 20 });

    // Until it is given back the lease is counted in full; after, exactly what was sent.
    expect((await rows(tenant)).leases).toBe(1);
    await services.enforcement.stop();
    expect(await rows(tenant)).toEqual({ external: 20, messages: 20, leases: 0, recipients: 20 });
  });

  it('records each recipient answered from a lease with the time it was accepted', async () => {
    const { tenant, clock, services } = await setup(100);
    const ann = sender(tenant);
    for (let i = 0; i < 4; i++) {
      expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }))).toBe('accept');
      clock.advance(250);
    }
    await services.enforcement.stop();
    const recorded = await database.db.select({ instance: countedRecipients.instance, at: countedRecipients.createdAt })
      .from(countedRecipients).where(eq(countedRecipients.tenantId, tenant.id)).orderBy(countedRecipients.instance);
    // m0 was decided by the database, m1-m3 from the lease and reported when it was given back.
    expect(recorded).toEqual([0, 1, 2, 3].map((i) => ({ instance: `m${i}`, at: new Date(Date.parse('2026-11-26T10:00:05Z') + 250 * i) })));
  });

  it('answers what memory holds at once (a leased recipient, a duplicate, a restricted sender) and leaves the rest to the database', async () => {
    const { tenant, services } = await setup(100);
    const ann = sender(tenant);
    const now = (i: number, instance = `m${i}`) => services.enforcement.answerFromMemory({ sender: ann, recipient: `r${i}@fabrikam.test`, instance });
    // Nothing is loaded and no lease is held: only the database can tell.
    expect(now(0)).toBeUndefined();
    const before = decided.length;
    expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: 'r0@fabrikam.test', instance: 'm0' }))).toBe('accept');
    const answers = Array.from({ length: 19 }, (_, i) => now(i + 1));
    expect(answers.map((a) => a && `${reply(a)} ${a.reason}`)).toEqual(Array(19).fill('accept accepted'));
    expect(now(5)).toMatchObject({ verdict: 'accept', reason: 'duplicate' });
    expect(decided.length - before).toBe(1);
    // Another sender of the tenant has no lease: the database decides it.
    expect(services.enforcement.answerFromMemory({ sender: sender(tenant, 'bob'), recipient: 'x@fabrikam.test', instance: 'b1' })).toBeUndefined();

    const activity = await services.enforcement.getSenderActivity(tenant.id, ann);
    expect(activity.counts).toMatchObject({ externalLastHour: 20, messagesThisMinute: 20 });
    await services.enforcement.stop();
    expect(await rows(tenant)).toEqual({ external: 20, messages: 20, leases: 0, recipients: 20 });
  });

  it('refuses a sender restricted by this process from memory, as the database did', async () => {
    const { tenant, services } = await setup(2);
    const ann = sender(tenant);
    const check = (i: number) => ({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` });
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) replies.push(reply(await services.enforcement.checkRecipient(check(i))));
    expect(replies).toEqual(['accept', 'accept', '550 5.1.8']);
    const before = decided.length;
    const refused = services.enforcement.answerFromMemory(check(3));
    expect(refused && reply(refused)).toBe('550 5.1.8');
    expect(decided.length).toBe(before);
    await services.enforcement.stop();
    expect(await rows(tenant)).toMatchObject({ external: 2, leases: 0 });
  });

  it('stops short of the warning threshold, so the warning and the restriction come from the database at exactly 80 and 101', async () => {
    const { tenant, services } = await setup(100);
    const ann = sender(tenant);
    const replies: string[] = [];
    for (let i = 0; i < 105; i++) replies.push(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` })));
    expect(replies.slice(0, 100)).toEqual(Array(100).fill('accept'));
    expect(replies.slice(100)).toEqual(Array(5).fill('550 5.1.8'));

    const warnings = await database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.type, 'SendingLimitNearlyReached')));
    expect(warnings.map((w) => w.payload)).toEqual([expect.objectContaining({ limit: 'RecipientLimitExternalPerHour', count: 80, limitValue: 100 })]);
    expect(await database.db.select().from(restrictions).where(eq(restrictions.tenantId, tenant.id))).toHaveLength(1);
    await services.enforcement.stop();
    expect(await rows(tenant)).toMatchObject({ external: 100, leases: 0 });
  });

  it('counts a retried request once and keeps the per-message limit for recipients answered from a lease', async () => {
    const { tenant, services } = await setup(100, { SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE: '5' });
    const ann = sender(tenant);
    const ask = (recipient: string, instance: string) => services.enforcement.checkRecipient({ sender: ann, recipient, instance }).then(reply);
    expect(await ask('first@fabrikam.test', 'warm-up')).toBe('accept');
    const replies: string[] = [];
    for (const r of ['a', 'b', 'b', 'c', 'd', 'e', 'f']) replies.push(await ask(`${r}@fabrikam.test`, 'one-message'));
    expect(replies).toEqual(['accept', 'accept', 'accept', 'accept', 'accept', 'accept', '452 4.5.3']);
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts).toMatchObject({ externalLastHour: 6, messagesThisMinute: 2 });
    await services.enforcement.stop();
    expect(await rows(tenant)).toEqual({ external: 6, messages: 2, leases: 0, recipients: 6 });
  });

  it('two processes: the one that reaches the limit recalls the other one\'s lease, and exactly the limit is accepted', async () => {
    const { tenant, clock, services: first, settings } = await setup(100);
    const second = testServices(await secondHandle(), clock, settings);
    const ann = sender(tenant);
    expect(reply(await first.enforcement.checkRecipient({ sender: ann, recipient: 'held@fabrikam.test', instance: 'held' }))).toBe('accept');
    expect((await rows(tenant)).leases).toBe(1);

    const replies: string[] = [];
    for (let i = 0; i < 120; i++) replies.push(reply(await second.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` })));
    expect(replies.filter((r) => r === 'accept')).toHaveLength(99);
    expect(replies.slice(99)).toEqual(Array(21).fill('550 5.1.8'));
    expect(await database.db.select().from(restrictions).where(eq(restrictions.tenantId, tenant.id))).toHaveLength(1);
    await Promise.all([first.enforcement.stop(), second.enforcement.stop()]);
    expect(await rows(tenant)).toMatchObject({ external: 100, leases: 0, recipients: 100 });
  });

  it('a recipient answered from a lease and retried at another process before it was reported counts once, with its message', async () => {
    const { tenant, first, second, ask } = await twoProcesses();
    expect(await ask(first, 'warm@fabrikam.test', 'warm')).toBe('accept');
    // Answered from the first process's lease, not yet reported; Postfix did not hear the answer
    // and asks the second process, which decides it at the database.
    expect(await ask(first, 'x@fabrikam.test', 'retried')).toBe('accept');
    expect((await rows(tenant)).recipients).toBe(1);
    expect(await ask(second, 'x@fabrikam.test', 'retried')).toBe('accept');
    expect((await rows(tenant)).recipients).toBe(2);
    await Promise.all([first.enforcement.stop(), second.enforcement.stop()]);
    expect(await rows(tenant)).toEqual({ external: 2, messages: 2, leases: 0, recipients: 2 });
  });

  it('a recipient answered from two processes\' leases counts once, whichever reports last', async () => {
    const { tenant, first, second, ask } = await twoProcesses();
    expect(await ask(first, 'a@fabrikam.test', 'warm-a')).toBe('accept');
    expect(await ask(second, 'b@fabrikam.test', 'warm-b')).toBe('accept');
    expect((await rows(tenant)).leases).toBe(2);
    expect(await ask(first, 'x@fabrikam.test', 'retried')).toBe('accept');
    expect(await ask(second, 'x@fabrikam.test', 'retried')).toBe('accept');
    expect(await ask(second, 'y@fabrikam.test', 'retried')).toBe('accept');
    // All three answered from the leases: nothing of the message `retried` is at the database yet.
    expect((await rows(tenant)).recipients).toBe(2);
    await first.enforcement.stop();
    await second.enforcement.stop();
    // a, b, and the message `retried` with x and y.
    expect(await rows(tenant)).toEqual({ external: 4, messages: 3, leases: 0, recipients: 4 });
  });

  it('a usage report retried after its commit gives nothing back; one of a recipient a decision counted meanwhile gives that one back', async () => {
    const { tenant } = await setup(100);
    const { decide, report } = annAtTheDatabase(tenant);
    const lease = (await decide('m0', 'r0@fabrikam.test', 10))[0]!.lease!.id;
    await settleLeases(database.db, [report(lease, 2, false, [1, 2])]);
    await settleLeases(database.db, [report(lease, 2, false, [1, 2])]);
    // r3 of m3, answered from the lease, retried and decided at the database before the lease's next report.
    expect((await decide('m3', 'r3@fabrikam.test', 0))[0]?.outcome).toBe('accepted');
    await settleLeases(database.db, [report(lease, 3, true, [3])]);
    // r0 to r3, each once, and their four messages.
    expect(await rows(tenant)).toEqual({ external: 4, messages: 4, leases: 0, recipients: 4 });
  });

  it('a usage report retried after its commit gives back a recipient counted elsewhere only once', async () => {
    const { tenant } = await setup(100);
    const { decide, report } = annAtTheDatabase(tenant);
    const lease = (await decide('m0', 'r0@fabrikam.test', 10))[0]!.lease!.id;
    // r1 of m1, answered from the lease, was retried and decided at the database before the report.
    expect((await decide('m1', 'r1@fabrikam.test', 0))[0]?.outcome).toBe('accepted');
    await settleLeases(database.db, [report(lease, 2, false, [1, 2])]);
    // The same report again, as after a commit the process did not hear.
    await settleLeases(database.db, [report(lease, 2, false, [1, 2])]);
    await settleLeases(database.db, [report(lease, 2, true, [])]);
    // r0, r1 once, r2, and their three messages.
    expect(await rows(tenant)).toEqual({ external: 3, messages: 3, leases: 0, recipients: 3 });
    // What was given back is noted, and forgotten with the recipients two days later.
    const noted = () => database.db.select({ instance: leaseGiveBacks.instance }).from(leaseGiveBacks).where(eq(leaseGiveBacks.tenantId, tenant.id));
    expect(await noted()).toEqual([{ instance: 'm1' }]);
    await createHistoryPruner({ db: database.db, clock: manualClock('2026-11-28T10:00:06Z') }).runOnce();
    expect(await noted()).toEqual([]);
  });

  it.skipIf(!onPostgres)('a usage report that meets a decision of the same sender in flight waits for it instead of deadlocking, and counts the recipient once', async () => {
    const { tenant } = await setup(100);
    const { decide, report } = annAtTheDatabase(tenant);
    const lease = (await decide('m0', 'r0@fabrikam.test', 10))[0]!.lease!.id;
    // r1 of m1 was answered from the lease; Postfix retried it at another process, whose decision
    // call is in flight: it holds ann's lock (it has decided m2's r2) and has not reached r1 yet.
    const other = await secondHandle();
    let reported: Promise<unknown> | undefined;
    await database.db.transaction(async (tx) => {
      expect((await decide('m2', 'r2@fabrikam.test', 0, tx))[0]?.outcome).toBe('accepted');
      reported = settleLeases(other.db, [report(lease, 1, true, [1])]).then(() => 'settled', (err: unknown) => err);
      // The report is waiting on a lock this decision holds.
      await expect.poll(async () => {
        const [waiting] = await rowsOf<{ n: number }>(other.db, sql`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%sendguard_settle_leases%'`);
        return waiting?.n;
      }, { timeout: 5000 }).toBe(1);
      expect((await decide('m1', 'r1@fabrikam.test', 0, tx))[0]?.outcome).toBe('accepted');
    });
    // Before, the report had recorded r1 before taking the lock: the decision waited for it too,
    // and PostgreSQL broke the deadlock after deadlock_timeout by failing one of the two.
    expect(await reported).toBe('settled');
    // r0 (with the lease's 9 unused given back), r1 once, r2; three messages.
    expect(await rows(tenant)).toEqual({ external: 3, messages: 3, leases: 0, recipients: 3 });
  });

  it('a lease left by a process that stopped without giving it back stays counted, and holds no decision up 2 s after it expired', async () => {
    const { tenant, clock, services } = await setup(100);
    const ann = sender(tenant);
    // What a process that died leaves: 30 recipients leased at 10:00:00 for 2 s, none reported.
    await database.db.insert(sendingCounters).values({ tenantId: tenant.id, sender: ann, bucket: new Date('2026-11-26T10:00:00Z'), external: 30, messages: 30 });
    await database.db.insert(sendingLeases).values({
      tenantId: tenant.id, sender: ann, bucket: new Date('2026-11-26T10:00:00Z'), internal: false, recipients: 30, messages: 30, expiresAt: new Date('2026-11-26T10:00:02Z'),
    });
    clock.set('2026-11-26T10:00:04.5Z');
    const replies: string[] = [];
    for (let i = 0; i < 80; i++) replies.push(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` })));
    expect(replies.filter((r) => r === 'accept')).toHaveLength(70);
    expect(replies.slice(70)).toEqual(Array(10).fill('550 5.1.8'));
    await services.enforcement.stop();
  });

  it('a sender that keeps sending keeps its lease: each usage report extends it, up to the end of the minute it was granted in', async () => {
    const { tenant, clock, services } = await setup(1000);
    const ann = sender(tenant);
    const before = decided.length;
    const ask = (i: number) => services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }).then(reply);
    const replies = [await ask(0)];
    // One recipient a second, each usage report moving the lease 2 s on: 10:00:06 … 10:00:59.
    for (let i = 1; i <= 54; i++) {
      clock.advance(1000);
      replies.push(await ask(i));
      await services.enforcement.flushLeases();
    }
    expect(decided.length - before).toBe(1);
    const [held] = await database.db.select().from(sendingLeases).where(eq(sendingLeases.tenantId, tenant.id));
    expect(held?.expiresAt.toISOString()).toBe('2026-11-26T10:01:00.000Z');
    clock.set('2026-11-26T10:01:00.5Z');
    replies.push(await ask(55));
    expect(decided.length - before).toBe(2);
    expect(replies).toEqual(Array(56).fill('accept'));
    await services.enforcement.stop();
    expect(await rows(tenant)).toMatchObject({ external: 56, leases: 0, recipients: 56 });
  });

  it('writes a busy lease\'s usage back about once a second, and a lease first used near its end at once, to extend it', async () => {
    const { tenant, clock, services } = await setup(1000);
    const ann = sender(tenant);
    const before = decided.length;
    const ask = (i: number) => services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }).then(reply);
    const heldUntil = async () => (await database.db.select().from(sendingLeases).where(eq(sendingLeases.tenantId, tenant.id)))[0]?.expiresAt.toISOString();
    // What the keeper's timer does at each look, every defaultReportMs(2000) = 250 ms.
    const look = async () => {
      clock.advance(defaultReportMs(2000));
      await services.enforcement.flushLeases(true);
    };
    const replies = [await ask(0)]; // 10:00:05, a lease until 10:00:07
    for (let i = 0; i < 6; i++) await look();
    // First used at 10:00:06.5, as when a pass over many senders takes that long: with two looks'
    // time left it might end before the next look, so its usage goes back within a tenth of a
    // look, without waiting for one, and the database extends it.
    let settled = settlements;
    replies.push(await ask(1));
    await expect.poll(() => settlements - settled).toBe(1);
    expect(await heldUntil()).toBe('2026-11-26T10:00:08.500Z');
    settled = settlements;
    await look();
    expect(settlements - settled).toBe(0);
    // A recipient before each look for 5 s: its usage goes back once a second, not at every look.
    settled = settlements;
    for (let i = 2; i < 22; i++) {
      replies.push(await ask(i));
      await look();
    }
    expect(settlements - settled).toBe(5);
    expect(await heldUntil()).toBe('2026-11-26T10:00:13.500Z');
    expect(decided.length - before).toBe(1);
    expect(replies).toEqual(Array(22).fill('accept'));
    await services.enforcement.stop();
    expect(await rows(tenant)).toMatchObject({ external: 22, leases: 0, recipients: 22 });
  });

  it('looks for usage to write back at least twice while a lease has half an extension left', () => {
    expect([400, 2000, 60_000, 40].map(defaultReportMs)).toEqual([100, 250, 250, 25]);
    for (const leaseMs of [100, 400, 2000, 60_000]) expect(defaultReportMs(leaseMs)).toBeLessThanOrEqual(leaseMs / 4);
  });

  it('does not extend the lease of a sender restricted meanwhile, so the restriction stops it within one lease period even unheard', async () => {
    const { tenant, clock, services } = await setup(1000);
    const ann = sender(tenant);
    const ask = (i: number) => services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }).then(reply);
    expect(await ask(0)).toBe('accept');
    // Restricted by another process; this one does not follow events in this test.
    await services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: ann, reasonCode: 'SendingLimitExceeded', exceededLimit: 'RecipientLimitExternalPerHour',
      limitValue: 1000, internalRecipientCount: 0, externalRecipientCount: 1, lastMessageRecipientCount: 1,
      policy: { id: null, name: 'Default', action: 'BlockUser' }, temporary: false, actor: policyActor,
    });
    clock.advance(1000);
    expect(await ask(1)).toBe('accept');
    await services.enforcement.flushLeases();
    const [held] = await database.db.select().from(sendingLeases).where(eq(sendingLeases.tenantId, tenant.id));
    expect(held?.expiresAt.toISOString()).toBe('2026-11-26T10:00:07.000Z');
    clock.set('2026-11-26T10:00:07.5Z');
    expect(await ask(2)).toBe('550 5.1.8');
    await services.enforcement.stop();
  });

  it('a holder that misses the recall notification stops extending its lease: the recalling decision marks it', async () => {
    const { tenant, clock, services: second, settings } = await setup(100);
    // The holder does not hear NOTIFY at all.
    const deaf = testServices({ ...database, listen: async () => async () => {} }, clock, settings);
    const ann = sender(tenant);
    const ask = (s: typeof deaf, i: number) => s.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }).then(reply);
    expect(await ask(deaf, 0)).toBe('accept');
    const [granted] = await database.db.select().from(sendingLeases).where(eq(sendingLeases.tenantId, tenant.id));
    expect(granted?.recipients).toBe(39);

    // The other process reaches the limit while the deaf one holds 38 unused recipients: it cannot
    // refuse while they may still be used, so after its retries it defers (451), and marks the lease.
    const replies: string[] = [];
    for (let i = 1; i <= 61; i++) replies.push(await ask(second, i));
    expect(replies.slice(0, 60)).toEqual(Array(60).fill('accept'));
    expect(replies[60]).toBe('451 4.3.5');
    const [marked] = await database.db.select().from(sendingLeases).where(eq(sendingLeases.id, granted?.id as string));
    expect(marked?.recalled).toBe(true);

    // The holder keeps using it, but its reports no longer extend it.
    clock.advance(1000);
    expect(await ask(deaf, 100)).toBe('accept');
    await deaf.enforcement.flushLeases();
    const [after] = await database.db.select().from(sendingLeases).where(eq(sendingLeases.id, granted?.id as string));
    expect(after?.expiresAt.toISOString()).toBe(granted?.expiresAt.toISOString());
    await Promise.all([deaf.enforcement.stop(), second.enforcement.stop()]);
  }, 15_000);

  it('gives a lease back when its tenant\'s limits change, so the new limit applies to the next recipient', async () => {
    const { tenant, services } = await setup(100);
    const ann = sender(tenant);
    for (let i = 0; i < 10; i++) expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }))).toBe('accept');
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 5, action: 'BlockUser' });
    services.enforcement.invalidate(tenant.id);
    expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: 'late@fabrikam.test', instance: 'late' }))).toBe('550 5.1.8');
    await services.enforcement.stop();
    expect(await rows(tenant)).toMatchObject({ external: 10, leases: 0 });
  });

  it('keeps its leases through events that change nothing it enforces (alerts, role changes), and gives them back on a configuration change', async () => {
    const { tenant, clock, services } = await setup(100);
    await services.events.start();
    try {
      const ann = sender(tenant);
      const arrived = (type: string) => new Promise<void>((resolve) => {
        const stop = services.events.subscribe((e) => {
          if (e.type === type && e.tenantId === tenant.id) {
            stop();
            resolve();
          }
        });
      });
      expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: 'a@fabrikam.test', instance: 'm0' }))).toBe('accept');
      const held = async () => {
        await services.enforcement.flushLeases();
        return (await rows(tenant)).leases;
      };
      expect(await held()).toBe(1);

      const alert = arrived('AlertRaised');
      await appendEvent(database.db, { tenantId: tenant.id, type: 'AlertRaised', entityKind: 'alert', entityKey: 'alert-1', payload: {}, occurredAt: clock.now() });
      await alert;
      const role = arrived('RoleAssignmentsChanged');
      await services.roles.assign({ tenantId: tenant.id, principalId: 'oid-reader-1', role: 'Global Reader', actor: policyActor });
      await role;
      expect(await held()).toBe(1);

      const change = arrived('OutboundSpamPolicyChanged');
      await recordConfigChange(database.db, { tenantId: tenant.id, type: 'OutboundSpamPolicyChanged', target: 'Default', actor: policyActor, at: clock.now() });
      await change;
      expect(await held()).toBe(0);
    } finally {
      await services.events.stop();
      await services.enforcement.stop();
    }
  });

  it('decides recipients that arrive together (16 senders, as from 16 connections) in one database call', async () => {
    const { tenant, services } = await setup(100);
    // Tenant, policy and connector caches are loaded by a first recipient.
    expect(reply(await services.enforcement.checkRecipient({ sender: sender(tenant, 'first'), recipient: 'r@fabrikam.test', instance: 'm0' }))).toBe('accept');
    const before = decided.length;
    const replies = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      services.enforcement.checkRecipient({ sender: sender(tenant, `s${i}`), recipient: `r${i}@fabrikam.test`, instance: `m${i + 1}` })));
    expect(replies.map(reply)).toEqual(Array(16).fill('accept'));
    // This tenant's calls only: a decision of an earlier test's service may still be under way.
    const calls = decided.slice(before).filter((items) => items.includes(JSON.stringify(tenant.id)));
    expect(calls).toHaveLength(1);
    expect((JSON.parse(calls[0] ?? '[]') as { sender: string }[]).map((i) => i.sender)).toEqual(Array.from({ length: 16 }, (_, i) => sender(tenant, `s${i}`)));
    await services.enforcement.stop();
    expect(await rows(tenant)).toEqual({ external: 17, messages: 17, leases: 0, recipients: 17 });
  });

  it('settles a backlog of 15,000 senders\' lease reports, more locks than one transaction may take, in chunks', async () => {
    const { tenant } = await setup(100);
    const n = 15_000;
    const bucket = '2026-11-26T10:00:00Z';
    // 15,000 live leases of 10 recipients, counted in full as a grant counts them.
    await database.db.execute(sql`insert into sending_counters (tenant_id, sender, bucket, internal, external, messages)
      select ${tenant.id}, 's' || g || '@' || ${tenant.domain}, ${bucket}::timestamptz, 0, 10, 10 from generate_series(1, ${n}::int) g`);
    const leases = await database.rows<{ id: string; sender: string }>(sql`insert into sending_leases (tenant_id, sender, bucket, internal, recipients, messages, expires_at)
      select ${tenant.id}, 's' || g || '@' || ${tenant.domain}, ${bucket}::timestamptz, false, 10, 10, ${bucket}::timestamptz + interval '2 seconds'
        from generate_series(1, ${n}::int) g returning id, sender`);
    const reports: LeaseSettlement[] = leases.map((l, k) => ({
      lease: l.id, tenantId: tenant.id, sender: l.sender, internal: false, used: 1, usedMessages: 1, final: true, bucket: Date.parse(bucket),
      recipients: [{ instance: `m${k}`, recipient: `r${k}@fabrikam.test`, at: Date.parse('2026-11-26T10:00:01Z'), newMessage: true }],
    }));
    const errors: unknown[] = [];
    const keeper = createLeaseKeeper({
      db: database.db, clock: manualClock('2026-11-26T10:00:01Z'), reportMs: 60_000, extendMs: 0,
      settleChunk: SETTLE_CHUNK[database.kind], onError: (err) => errors.push(err),
    });
    const before = settlements;
    keeper.report(reports);
    await keeper.flush();
    expect(errors).toEqual([]);
    expect(settlements - before).toBe(Math.ceil(n / SETTLE_CHUNK[database.kind]));
    // Each lease gave back its 9 unused recipients and messages: exactly the one used is counted.
    expect(await rows(tenant)).toEqual({ external: n, messages: n, leases: 0, recipients: n });
  }, 60_000);

  it('reports a lease used near its end without waiting for the next look, unless the end is its minute\'s', async () => {
    const { tenant } = await setup(100);
    const clock = manualClock('2026-11-26T10:00:05Z');
    const errors: unknown[] = [];
    // Looks every 5 s, so none comes during this test: only a lease used near its end is reported.
    const keeper = createLeaseKeeper({ db: database.db, clock, reportMs: 5000, extendMs: 2000, onError: (err) => errors.push(err) });
    const grant = async (who: string) => {
      const now = clock.now();
      const input = {
        tenantId: tenant.id, sender: who, instance: `${who}-m0`, recipient: 'r0@fabrikam.test', internal: false, now,
        limitInternalPerHour: 100, limitExternalPerHour: 100, limitPerDay: 1000, restricts: true, serviceRecipientsPerDay: 10_000,
        messagesPerMinute: 10_000, recipientsPerMessage: 500, leaseWant: 10,
      };
      keeper.book.toDatabase(tenant.id, who);
      const [result] = await recordRecipients(database.db, [input], { leaseMs: 2000, leasePercent: 80 });
      keeper.book.fromDatabase({ ...input, accepted: true, messageRecipients: 1, lease: result?.lease ?? null });
      keeper.held();
      return result?.lease?.id;
    };
    const take = (who: string, k: number) => keeper.book.take({
      tenantId: tenant.id, sender: who, internal: false, instance: `${who}-m${k}`, recipient: `r${k}@fabrikam.test`, now: clock.now(), recipientsPerMessage: 500,
    });
    const heldUntil = async (id: string | undefined) => (await database.db.select().from(sendingLeases).where(eq(sendingLeases.id, id ?? '')))[0]?.expiresAt.toISOString();
    const before = settlements;

    const ann = await grant(sender(tenant)); // until 10:00:07
    clock.advance(1500);
    expect(take(sender(tenant), 1)).toBe('accepted'); // 0.5 s left: reported within a tenth of a look, and extended
    await expect.poll(() => heldUntil(ann), { timeout: 3000 }).toBe('2026-11-26T10:00:08.500Z');
    expect(settlements - before).toBe(1);

    clock.set('2026-11-26T10:00:59Z');
    const bob = await grant(sender(tenant, 'bob')); // until 10:01:00, the end of its minute: no report extends it
    clock.advance(600);
    expect(take(sender(tenant, 'bob'), 1)).toBe('accepted');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(settlements - before).toBe(1);
    expect(await heldUntil(bob)).toBe('2026-11-26T10:01:00.000Z');
    await keeper.stop();
    expect(errors).toEqual([]);
    expect(await rows(tenant)).toMatchObject({ external: 4, leases: 0, recipients: 4 });
  });

  it('answers every recipient at the database when leases are off (SENDGUARD_POLICY_LEASE_MS=0)', async () => {
    const { tenant, services } = await setup(100, { SENDGUARD_POLICY_LEASE_MS: '0' });
    const ann = sender(tenant);
    const before = decided.length;
    for (let i = 0; i < 5; i++) expect(reply(await services.enforcement.checkRecipient({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${i}` }))).toBe('accept');
    expect(decided.length - before).toBe(5);
    expect(await rows(tenant)).toEqual({ external: 5, messages: 5, leases: 0, recipients: 5 });
  });

  it.each([
    ['in order', [5, 8]],
    ['a usage report landing after the lease was closed', [8, 5]],
  ])('usage reports are totals, so they count right whatever order they land in (%s)', async (_, order) => {
    const { tenant } = await setup(100);
    const ann = sender(tenant);
    const [first] = await recordRecipients(database.db, [{
      tenantId: tenant.id, sender: ann, instance: 'm0', recipient: 'r0@fabrikam.test', internal: false, now: new Date('2026-11-26T10:00:05Z'),
      limitInternalPerHour: 100, limitExternalPerHour: 100, limitPerDay: 1000, restricts: true, serviceRecipientsPerDay: 10_000,
      messagesPerMinute: 10_000, recipientsPerMessage: 500, leaseWant: 64,
    }], { leaseMs: 2000, leasePercent: 80 });
    const lease = first?.lease;
    expect(lease?.recipients).toBeGreaterThan(8);
    const report = (used: number, final: boolean): LeaseSettlement => ({
      lease: lease?.id as string, tenantId: tenant.id, sender: ann, internal: false, used, usedMessages: used, final, bucket: Date.parse('2026-11-26T10:00:00Z'),
      recipients: Array.from({ length: used }, (_, k) => ({ instance: `m${k + 1}`, recipient: `r${k + 1}@fabrikam.test`, at: Date.parse('2026-11-26T10:00:05Z'), newMessage: true })),
    });
    // The total of 8 is the final report; 5 is the earlier usage report.
    for (const used of order) await settleLeases(database.db, [report(used as number, used === 8)]);
    expect(await rows(tenant)).toEqual({ external: 9, messages: 9, leases: 0, recipients: 9 });
  });

  it('settles many leases in one report: two of one sender in one minute, one named twice, one already gone', async () => {
    const { tenant } = await setup(100);
    const [ann, bob] = [sender(tenant), sender(tenant, 'bob')];
    const at = new Date('2026-11-26T10:00:05Z');
    const item = (who: string, internal: boolean, k: number) => ({
      tenantId: tenant.id, sender: who, instance: `${who}-m${k}`, recipient: `r${k}@fabrikam.test`, internal, now: at,
      limitInternalPerHour: 100, limitExternalPerHour: 100, limitPerDay: 1000, restricts: true, serviceRecipientsPerDay: 10_000,
      messagesPerMinute: 10_000, recipientsPerMessage: 500, leaseWant: 10,
    });
    const granted = await recordRecipients(database.db, [item(ann, false, 0), item(ann, true, 1), item(bob, false, 2)], { leaseMs: 2000, leasePercent: 80 });
    const [annExternal, annInternal, bobExternal] = granted.map((r) => r.lease);
    expect(granted.map((r) => r.lease?.recipients)).toEqual([10, 10, 10]);
    // Leased recipients are counted when granted: 3 decided plus 3 leases of 10 recipients and messages.
    expect(await rows(tenant)).toMatchObject({ external: 22, messages: 33, leases: 3, recipients: 3 });

    const report = (lease: typeof annExternal, who: string, internal: boolean, used: number, final: boolean, first: number): LeaseSettlement => ({
      lease: lease?.id as string, tenantId: tenant.id, sender: who, internal, used, usedMessages: used, final, bucket: Date.parse('2026-11-26T10:00:00Z'),
      recipients: Array.from({ length: used }, (_, k) => ({ instance: `${who}-l${first + k}`, recipient: `l${first + k}@fabrikam.test`, at: at.getTime(), newMessage: true })),
    });
    await settleLeases(database.db, [report(bobExternal, bob, false, 4, true, 0)]);
    await settleLeases(database.db, [
      report(annExternal, ann, false, 2, false, 0),
      report(annInternal, ann, true, 3, true, 10),
      report(annExternal, ann, false, 5, true, 0), // the same lease, final, with the higher total
      report(bobExternal, bob, false, 6, true, 20), // closed by the report before: only its recipients count
    ]);
    const [internal] = await database.db.select({ n: sql<number>`coalesce(sum(${sendingCounters.internal}), 0)::int` })
      .from(sendingCounters).where(and(eq(sendingCounters.tenantId, tenant.id), eq(sendingCounters.sender, ann)));
    // ann: 1 + 5 external and 1 + 3 internal; bob: 1 + 4 external (its late report's 6 are recorded, not counted again).
    expect(internal?.n).toBe(4);
    expect(await rows(tenant)).toEqual({ external: 11, messages: 3 + 5 + 3 + 4, leases: 0, recipients: 3 + 4 + 5 + 3 + 6 });
  });
});
