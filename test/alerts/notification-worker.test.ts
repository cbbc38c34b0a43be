import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { readEventsAfter } from '../../db/repos/events.ts';
import { claimDueNotifications } from '../../db/repos/notifications.ts';
import { notifications } from '../../db/schema/alerts.ts';
import { createNotificationWorker, type NotificationDeliverer } from '../../domain/alerts/notification-worker.ts';
import { createAlertMailer, notificationMessageId } from '../../mail/alert-mailer.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { admin, testServices } from '../helpers/services.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.ts';
import { addConversation, appendLimitEvent, grantRole, limitRestriction, notificationsOf } from './alert-fixtures.ts';

let database: TestDatabase;
let sink: SmtpSink;
const clock = manualClock('2026-11-26T10:00:00Z');
const FROM = 'alerts@sendguard.example';
let services: ReturnType<typeof testServices>;

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  services = testServices(database, clock);
});
afterAll(async () => {
  await sink.stop();
  await database.close();
});

function emailWorker(smtpUrl: string, extra: { teams?: NotificationDeliverer } = {}) {
  const mailer = createAlertMailer({ smtpUrl, from: FROM, restrictionEnd: services.alertQueries.restrictionEnd });
  return createNotificationWorker({ db: database.db, clock, deliverers: { email: mailer.deliver, ...extra }, backoff: { baseMs: 60_000, maxMs: 3_600_000 }, leaseMs: 600_000 });
}

/** Raises one alert through its event and returns its notifications. */
async function raise(tenant: TestTenant, local: string) {
  const restricted = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address(local)));
  const [event] = (await readEventsAfter(database.db, 0, 1000, tenant.id)).filter((e) => e.type === 'UserRestricted' && e.entityKey === restricted.restriction.entityKey);
  if (!event) throw new Error('no UserRestricted event');
  const [outcome] = await services.alerts.handleEvent(event);
  if (!outcome) throw new Error('no alert raised');
  return outcome;
}

const to = (tenant: TestTenant, local: string) => (m: ReceivedMail) => m.envelope.to.includes(tenant.address(local));

describe('e-mail notifications', () => {
  it('arrive at the SMTP server with a text and an HTML body saying who, what, the limit and counts, when and what to do', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const { alert, notifications: [notification] } = await raise(tenant, 'alice');
    const worker = emailWorker(sink.url);

    expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const mail = sink.messages.find(to(tenant, 'gadmin'));
    expect(mail?.envelope.from).toBe(FROM);
    expect(mail?.parsed.subject).toBe(`[High] ${tenant.address('alice')} is restricted from sending email`);
    expect(mail?.parsed.messageId).toBe(`<alert-notification.${notification?.id}@sendguard.example>`);
    expect(mail?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const text = mail?.parsed.text ?? '';
    expect(text).toContain(`${tenant.address('alice')} can no longer send email because it exceeded the limit RecipientLimitExternalPerHour (100 recipients).`);
    expect(text).toContain('The restriction lasts until 2026-11-27 00:00:00 UTC.');
    expect(text).toContain(`Sender:     ${tenant.address('alice')}\n`);
    expect(text).toMatch(/When: +2026-11-26 10:00:00 UTC/);
    expect(text).toMatch(/Limit: +RecipientLimitExternalPerHour = 100 recipients/);
    expect(text).toMatch(/Recipients: +12 internal, 100 external/);
    expect(text).toContain(`Alert id:   ${alert.id}`);
    expect(text).toContain('What to do:\n1. Review the account');
    expect(text).toContain('2. Enable multi-factor authentication for the account.');
    expect(text).toContain("3. Reset the account's password");
    expect(text).toContain(`5. Then unblock the sender: with the Sendguard bot in Teams, with the CLI (Remove-BlockedSenderAddress -SenderAddress ${tenant.address('alice')}), or with the GraphQL mutation unblockUser.`);
    expect(text).not.toMatch(/https?:\/\//);
    const html = mail?.parsed.html || '';
    expect(html).toContain(`<h2>${tenant.address('alice')} is restricted from sending email</h2>`);
    expect(html).toContain('<tr><th align="left">Limit</th><td>RecipientLimitExternalPerHour = 100 recipients</td></tr>');
    expect(html).toContain('<li>Enable multi-factor authentication for the account.</li>');
    expect(html).toContain('<li>Reset the account&#39;s password and sign it out of every session.</li>');

    const [row] = await notificationsOf(database, tenant.id);
    expect(row).toMatchObject({ status: 'Sent', attempts: 1, sentAt: clock.now(), lastError: null });
    expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
  });

  it('sent after the restriction ended, says it was released (by whom, when) or ended by itself, and asks for no unblock', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    clock.set('2026-11-26T10:00:00Z');
    await raise(tenant, 'rita');
    clock.set('2026-11-26T10:20:00Z');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('rita'), reason: 'checked', acknowledgedRecommendations: [], actor: admin });
    await raise(tenant, 'ezra');
    clock.set('2026-11-27T00:00:00Z');
    await services.expiry.runOnce();
    clock.set('2026-11-27T00:05:00Z');
    await emailWorker(sink.url).runOnce();
    clock.set('2026-11-26T10:00:00Z');

    const released = sink.messages.find((m) => to(tenant, 'gadmin')(m) && (m.parsed.subject ?? '').includes(tenant.address('rita')));
    expect(released?.parsed.subject).toBe(`[High] ${tenant.address('rita')} is restricted from sending email (released since)`);
    const text = released?.parsed.text ?? '';
    expect(text).toContain(`${tenant.address('rita')} was restricted from sending email because it exceeded the limit RecipientLimitExternalPerHour (100 recipients). Adele Vance has since released it, at 2026-11-26 10:20:00 UTC: it can send again.`);
    expect(text).not.toContain('can no longer send');
    expect(text).toMatch(/Released: +2026-11-26 10:20:00 UTC by Adele Vance/);
    expect(text).toContain('1. Review the account');
    expect(text).not.toContain('unblock');
    expect(released?.parsed.html).toContain(`${tenant.address('rita')} is restricted from sending email (released since)</h2>`);

    const expired = sink.messages.find((m) => to(tenant, 'gadmin')(m) && (m.parsed.subject ?? '').includes(tenant.address('ezra')))?.parsed.text ?? '';
    expect(expired).toContain('The restriction has since ended by itself, at 2026-11-27 00:00:00 UTC: it can send again.');
    expect(expired).not.toContain('can no longer send');
  });

  it('sent after the restriction was released and the sender restricted again, does not say it can send again', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await raise(tenant, 'ines');
    clock.set('2026-11-26T10:20:00Z');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('ines'), reason: 'checked', acknowledgedRecommendations: [], actor: admin });
    clock.set('2026-11-26T10:30:00Z');
    await services.restrictUser({ tenantId: tenant.id, senderAddress: tenant.address('ines'), reasonCode: 'SuspectedCompromise', actor: admin });
    await emailWorker(sink.url).runOnce();
    clock.set('2026-11-26T10:00:00Z');
    const text = sink.messages.find((m) => to(tenant, 'gadmin')(m) && (m.parsed.subject ?? '').includes('(released since)'))?.parsed.text ?? '';
    expect(text).toContain('Adele Vance has since released it, at 2026-11-26 10:20:00 UTC. It has been restricted again since: that restriction has an alert of its own.');
    expect(text).not.toContain('can send again');
  });

  it('the limit-exceeded and early-warning e-mails say what the policy did and what to do', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    for (const type of ['SendingLimitExceeded', 'SendingLimitNearlyReached'] as const) {
      const event = await appendLimitEvent(database, tenant.id, type, { sender: tenant.address('bulk') }, clock.now());
      await services.alerts.handleEvent(event);
    }
    await emailWorker(sink.url).runOnce();
    const mails = sink.messages.filter(to(tenant, 'gadmin'));
    const exceeded = mails.find((m) => m.parsed.subject?.includes('exceeded'))?.parsed.text ?? '';
    expect(exceeded).toContain(`${tenant.address('bulk')} exceeded the limit RecipientLimitExternalPerHour (100 recipients). The policy only alerts, so the sender was not restricted.`);
    expect(exceeded).toMatch(/Counted: +101 recipients/);
    expect(exceeded).toContain('consider raising the limit');
    const warning = mails.find((m) => m.parsed.subject?.includes('close to'))?.parsed.text ?? '';
    expect(warning).toContain(`${tenant.address('bulk')} has used 80 % of the limit RecipientLimitExternalPerHour (100 recipients).`);
    expect(mails.map((m) => m.parsed.subject).sort()).toEqual([
      `[Medium] ${tenant.address('bulk')} exceeded the sending limit RecipientLimitExternalPerHour`,
      `[Medium] ${tenant.address('bulk')} is close to the sending limit RecipientLimitExternalPerHour`,
    ]);
  });

  it('an SMTP outage delays delivery; a new worker after the restart delivers each e-mail exactly once', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const outage = await startSmtpSink();
    const { port } = outage;
    await outage.stop();
    const { notifications: [notification] } = await raise(tenant, 'bob');

    const before = emailWorker(`smtp://127.0.0.1:${port}`);
    expect(await before.runOnce()).toEqual({ sent: 0, retried: 1, failed: 0 });
    const [failed] = await notificationsOf(database, tenant.id);
    expect(failed).toMatchObject({ status: 'Pending', attempts: 1, nextAttemptAt: new Date(clock.now().getTime() + 60_000) });
    expect(failed?.lastError).toBeTruthy();
    await before.stop();

    const restarted = await startSmtpSink({ port });
    try {
      const after = emailWorker(restarted.url);
      expect(await after.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      clock.advance(60_000);
      expect(await after.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
      expect(await after.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(await emailWorker(restarted.url).runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(restarted.messages.map((m) => m.parsed.messageId)).toEqual([notificationMessageId(notification?.id ?? '', FROM)]);
      expect((await notificationsOf(database, tenant.id))[0]).toMatchObject({ status: 'Sent', attempts: 2 });
    } finally {
      await restarted.stop();
    }
  });

  it('backs off exponentially while the server stays down', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const down = await startSmtpSink();
    await down.stop();
    await raise(tenant, 'cleo');
    const worker = emailWorker(down.url);
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const start = clock.now().getTime();
      expect((await worker.runOnce()).retried).toBe(1);
      const [row] = await notificationsOf(database, tenant.id);
      delays.push((row?.nextAttemptAt.getTime() ?? 0) - start);
      clock.set(row?.nextAttemptAt ?? clock.now());
    }
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000]);
  });

  it('a notification claimed by a worker that died is delivered once its lease runs out, once', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await raise(tenant, 'dave');
    const now = clock.now();
    const claimed = await claimDueNotifications(database.db, { channels: ['email'], now, leaseUntil: new Date(now.getTime() + 600_000), limit: 1000 });
    expect(claimed.filter((n) => n.tenantId === tenant.id)).toHaveLength(1);

    const survivor = emailWorker(sink.url);
    await survivor.runOnce();
    expect(sink.messages.filter(to(tenant, 'gadmin'))).toHaveLength(0);
    clock.advance(600_000);
    await survivor.runOnce();
    await survivor.runOnce();
    expect(sink.messages.filter(to(tenant, 'gadmin'))).toHaveLength(1);
    expect((await notificationsOf(database, tenant.id))[0]).toMatchObject({ status: 'Sent', attempts: 2 });
  });

  it('a recipient the server refuses for good is marked Failed and not retried', async () => {
    const tenant = await createTestTenant(database);
    const picky = await startSmtpSink({ rejectRecipients: [tenant.address('gone')] });
    try {
      await grantRole(database, tenant.id, tenant.address('gone'), 'Global Administrator');
      await grantRole(database, tenant.id, tenant.address('here'), 'Global Administrator');
      await raise(tenant, 'erin');
      const worker = emailWorker(picky.url);
      expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 1 });
      clock.advance(3_600_000);
      expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      const rows = await notificationsOf(database, tenant.id);
      expect(rows.map((n) => [n.recipient, n.status])).toEqual([
        [tenant.address('gone'), 'Failed'],
        [tenant.address('here'), 'Sent'],
      ]);
      expect(rows[0]?.lastError).toMatch(/refused/);
      expect(picky.messages.map((m) => m.envelope.to)).toEqual([[tenant.address('here')]]);
    } finally {
      await picky.stop();
    }
  });
});

describe('a message the server refuses for good', () => {
  it('at the end of DATA (a content filter) is marked Failed with the reply, not retried every hour for ever', async () => {
    const tenant = await createTestTenant(database);
    const filtering = await startSmtpSink({ rejectMessagesTo: [tenant.address('strict')] });
    try {
      await grantRole(database, tenant.id, tenant.address('strict'), 'Global Administrator');
      await raise(tenant, 'nora');
      const worker = emailWorker(filtering.url);
      expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 1 });
      clock.advance(3_600_000);
      expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      const [row] = await notificationsOf(database, tenant.id);
      expect(row).toMatchObject({ status: 'Failed', attempts: 1 });
      expect(row?.lastError).toMatch(/550 5\.7\.1 Message rejected as spam by content filter/);
    } finally {
      await filtering.stop();
    }
  });
});

describe('several workers', () => {
  it.skipIf(!onPostgres)(`three workers on their own connection pools send each of 30 e-mails exactly once (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    for (let i = 0; i < 30; i += 1) await grantRole(database, tenant.id, tenant.address(`admin${i}`), 'Global Administrator');
    const crowd = await startSmtpSink();
    const pools = await Promise.all([0, 1, 2].map(() => openDatabase({ databaseUrl: database.url ?? '', dataDir: 'memory', migrate: false, maxConnections: 3 })));
    try {
      await raise(tenant, 'gail');
      const workers = pools.map((pool) => {
        const mailer = createAlertMailer({ smtpUrl: crowd.url, from: FROM, restrictionEnd: services.alertQueries.restrictionEnd });
        return createNotificationWorker({ db: pool.db, clock, deliverers: { email: mailer.deliver }, batchSize: 4 });
      });
      const runs = await Promise.all(workers.map((w) => w.runOnce()));
      expect(runs.reduce((n, r) => n + r.sent, 0)).toBe(30);
      expect(new Set(crowd.messages.map((m) => m.parsed.messageId)).size).toBe(30);
      expect(crowd.messages).toHaveLength(30);
      expect((await notificationsOf(database, tenant.id)).every((n) => n.status === 'Sent' && n.attempts === 1)).toBe(true);
    } finally {
      await crowd.stop();
      for (const pool of pools) await pool.close();
    }
  });
});

describe('Teams notifications', () => {
  it('stay Pending without a Teams deliverer, and go through the bot hook when one is given', async () => {
    const tenant = await createTestTenant(database);
    await addConversation(database, tenant.id, '19:soc@thread.tacv2', true);
    const { alert } = await raise(tenant, 'finn');
    await emailWorker(sink.url).runOnce();
    expect((await notificationsOf(database, tenant.id)).map((n) => [n.channel, n.status])).toEqual([['teams', 'Pending']]);

    const posted: string[] = [];
    const hook = { deliverTeams: async (n: { recipient: string }, a: { id: string }) => void posted.push(`${n.recipient} ${a.id}`) };
    const worker = createNotificationWorker({ db: database.db, clock, deliverers: { teams: (n, a) => hook.deliverTeams(n, a) } });
    await worker.runOnce();
    await worker.runOnce();
    expect(posted).toEqual([`19:soc@thread.tacv2 ${alert.id}`]);
    const [row] = await database.db.select().from(notifications).where(eq(notifications.tenantId, tenant.id));
    expect(row?.status).toBe('Sent');
  });
});
