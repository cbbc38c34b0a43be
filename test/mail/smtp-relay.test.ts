import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import net from 'node:net';
import { once } from 'node:events';
import postgres from 'postgres';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSendguard } from '../../cli/serve.ts';
import { systemClock } from '../../domain/clock.ts';
import { createEnforcementService } from '../../domain/enforcement/enforcement-service.ts';
import { RelayUsernameTakenError } from '../../domain/relay/errors.ts';
import { createRestrictionService } from '../../domain/restrictions/restriction-service.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { RESTRICTED_SENDER_NDR_TEXT } from '../../mail/smtp-relay/ndr.ts';
import { createSmarthostForwarder } from '../../mail/smtp-relay/smarthost.ts';
import { createSmtpRelay, type SmtpRelay } from '../../mail/smtp-relay/smtp-relay.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, postgresUrl, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { captureLogs } from '../helpers/logs.ts';
import { runSendguard } from '../helpers/process.ts';
import { SmtpDialog } from '../helpers/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { admin, testServices } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';

let database: TestDatabase;
let services: ReturnType<typeof testServices>;
let sink: SmtpSink;
let tenant: TestTenant;
const relays: SmtpRelay[] = [];
const forwarders: { close(): void }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await createTestTenant(database);
  await setDefaultPolicy(database, tenant.id, { externalPerHour: 3, action: 'BlockUser' });
  services = testServices(database, systemClock);
  sink = await startSmtpSink();
});
afterAll(async () => {
  for (const r of relays) await r.close();
  for (const f of forwarders) f.close();
  await sink.stop();
  await database.close();
});

/** A relay on a free loopback port, forwarding to the sink; `networks` are trusted without AUTH. */
async function startRelay(networks: string[]): Promise<number> {
  const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
  forwarders.push(forwarder);
  const relay = createSmtpRelay({
    enforcement: services.enforcement,
    credentials: services.relayCredentials,
    forwarder,
    networks,
    hostname: 'relay.sendguard.test',
    clock: systemClock,
  });
  relays.push(relay);
  return (await relay.listen(0, '127.0.0.1')).port;
}

function client(port: number, auth?: { user: string; pass: string }) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...(auth ? { auth } : {}) });
}

const message = (from: string, to: string[], subject: string) => ({ from, to, subject, text: `${subject}\n` });

function sinkMessagesTo(address: string) {
  return sink.messages.filter((m) => m.envelope.to.includes(address));
}

describe('the SMTP submission relay', () => {
  it('relays mail from a trusted network to the smarthost, envelope and content intact', async () => {
    const port = await startRelay(['127.0.0.0/8']);
    const ann = tenant.address('ann');
    const info = await client(port).sendMail(message(ann, ['first@fabrikam.test', tenant.address('bob')], 'Quarterly report'));
    expect(info.accepted).toEqual(['first@fabrikam.test', tenant.address('bob')]);
    const [arrived] = sinkMessagesTo('first@fabrikam.test');
    expect(arrived?.envelope).toEqual({ from: ann, to: ['first@fabrikam.test', tenant.address('bob')] });
    expect(arrived?.parsed.subject).toBe('Quarterly report');
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts).toMatchObject({ externalLastHour: 1, internalLastHour: 1 });
  });

  it('adds its Received line on top, naming the client and how it sent (ESMTP, ESMTPA once authenticated)', async () => {
    const port = await startRelay(['127.0.0.0/8']);
    const password = 'correct horse battery staple';
    const login = tenant.address('copier');
    await services.relayCredentials.create({ tenantId: tenant.id, username: login, password });
    const send = async (recipient: string, auth: boolean) => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.exchange('EHLO client.sendguard.test');
      if (auth) expect(await dialog.send(`AUTH PLAIN ${Buffer.from(`\0${login}\0${password}`).toString('base64')}`)).toMatch(/^235 /);
      expect(await dialog.send(`MAIL FROM:<${login}>`)).toMatch(/^250 /);
      expect(await dialog.send(`RCPT TO:<${recipient}>`)).toMatch(/^250 /);
      expect(await dialog.send('DATA')).toMatch(/^354 /);
      expect(await dialog.send(['Received: from earlier.example by client.sendguard.test; Mon, 7 Dec 2026 10:00:00 +0000', 'Subject: Trace', '', 'Body.', '.'].join('\r\n'))).toMatch(/^250 /);
      dialog.close();
      const received = sinkMessagesTo(recipient)[0]!.raw.split('\r\n\r\n')[0]!.split(/\r\n(?![ \t])/).filter((h) => h.startsWith('Received:'));
      return received.map((h) => h.replace(/\r\n[ \t]+/g, ' '));
    };
    const trusted = await send('traced@fabrikam.test', false);
    expect(trusted).toHaveLength(2);
    expect(trusted[0]).toMatch(/^Received: from client\.sendguard\.test \(.*\[127\.0\.0\.1\]\) by relay\.sendguard\.test \(Sendguard\) with ESMTP id \S+; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(trusted[1]).toBe('Received: from earlier.example by client.sendguard.test; Mon, 7 Dec 2026 10:00:00 +0000');
    const authenticated = await send('traced2@fabrikam.test', true);
    expect(authenticated[0]).toMatch(/ with ESMTPA id /);
  });

  it('asks clients outside the trusted networks to authenticate, checks credentials, and counts the authenticated user', async () => {
    const port = await startRelay([]);
    const password = 'correct horse battery staple';
    await services.relayCredentials.create({ tenantId: tenant.id, username: 'Scanner@' + tenant.domain, password });
    await expect(services.relayCredentials.create({ tenantId: tenant.id, username: tenant.address('scanner'), password })).rejects.toBeInstanceOf(RelayUsernameTakenError);
    await expect(services.relayCredentials.create({ tenantId: tenant.id, username: 'x', password: 'short' })).rejects.toBeInstanceOf(ValidationError);

    const from = tenant.address('frontdesk');
    await expect(client(port).sendMail(message(from, ['a@fabrikam.test'], 'no auth'))).rejects.toMatchObject({ responseCode: 530 });
    await expect(client(port, { user: tenant.address('scanner'), pass: 'wrong password!' }).sendMail(message(from, ['a@fabrikam.test'], 'bad auth'))).rejects.toMatchObject({
      responseCode: 535,
    });
    const info = await client(port, { user: tenant.address('scanner'), pass: password }).sendMail(message(from, ['scanned@fabrikam.test'], 'Scan'));
    expect(info.accepted).toEqual(['scanned@fabrikam.test']);
    expect(sinkMessagesTo('scanned@fabrikam.test')).toHaveLength(1);
    expect((await services.enforcement.getSenderActivity(tenant.id, tenant.address('scanner'))).counts.externalLastHour).toBe(1);
    expect((await services.enforcement.getSenderActivity(tenant.id, from)).counts.externalLastHour).toBe(0);
    // A credential of one tenant cannot send as another tenant's address.
    const other = await createTestTenant(database);
    services.enforcement.invalidate();
    await expect(client(port, { user: tenant.address('scanner'), pass: password }).sendMail(message(other.address('x'), ['y@fabrikam.test'], 'spoof'))).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringContaining('5.7.60'),
    });
  });

  it('closes a connection after its third failed login, as a client guessing passwords would have it', async () => {
    const port = await startRelay([]);
    const { dialog } = await SmtpDialog.open(port);
    await dialog.exchange('EHLO client.sendguard.test');
    const guess = (n: number) => dialog.send(`AUTH PLAIN ${Buffer.from(`\0${tenant.address('scanner')}\0guess number ${n}!`).toString('base64')}`);
    expect([await guess(1), await guess(2), await guess(3)]).toEqual([
      '535 5.7.8 Authentication credentials invalid',
      '535 5.7.8 Authentication credentials invalid',
      '421 4.7.0 Too many failed logins, closing connection',
    ]);
    await dialog.closed;
  });

  it('holds an authenticated client to its user name whatever MAIL FROM says: a null sender is counted and restricted, a sender of no tenant refused', async () => {
    const port = await startRelay([]);
    const printer = tenant.address('printer');
    const password = 'correct horse battery staple';
    await services.relayCredentials.create({ tenantId: tenant.id, username: printer, password });
    const session = async () => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.sendguard.test');
      expect(await dialog.send(`AUTH PLAIN ${Buffer.from(`\0${printer}\0${password}`).toString('base64')}`)).toMatch(/^235 /);
      return dialog;
    };
    const refusedSender = '550 5.7.60 Client does not have permissions to send as this sender';
    const restricted = '550 5.1.8 Access denied, bad outbound sender';

    const dialog = await session();
    expect(await dialog.send('MAIL FROM:<spam@nowhere.test>')).toBe(refusedSender);
    expect(await dialog.send('MAIL FROM:<>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<receipt1@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<receipt2@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    expect(await dialog.send(['Subject: Read: Scan 7', '', 'Your message was read.', '.'].join('\r\n'))).toMatch(/^250 /);
    expect((await waitForMessagesTo('receipt1@fabrikam.test'))[0]?.envelope).toEqual({ from: '', to: ['receipt1@fabrikam.test', 'receipt2@fabrikam.test'] });
    expect((await services.enforcement.getSenderActivity(tenant.id, printer)).counts.externalLastHour).toBe(2);

    // Restricted while a null-sender message is being transferred: no one could take an NDR, so DATA is refused.
    expect(await dialog.send('MAIL FROM:<>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<receipt3@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: printer, reasonCode: 'SuspectedCompromise', temporary: false, actor: admin });
    expect(await dialog.send(['Subject: Read: Scan 8', '', 'Your message was read.', '.'].join('\r\n'))).toBe(restricted);
    dialog.close();

    const again = await session();
    expect(await again.send('MAIL FROM:<>')).toBe(restricted);
    expect(await again.send('MAIL FROM:<spam@nowhere.test>')).toBe(refusedSender);
    expect(await again.send(`MAIL FROM:<${tenant.address('frontdesk')}>`)).toBe(restricted);
    again.close();
    expect(sinkMessagesTo('receipt3@fabrikam.test')).toHaveLength(0);
    expect((await services.enforcement.getSenderActivity(tenant.id, printer)).counts.externalLastHour).toBe(3);
  });

  it('announces its 35 MiB message size limit and refuses a larger message', async () => {
    const port = await startRelay(['127.0.0.0/8']);
    const { dialog } = await SmtpDialog.open(port);
    expect(await dialog.exchange('EHLO client.sendguard.test')).toMatch(/^250[- ]SIZE 36700160$/m);
    expect(await dialog.send(`MAIL FROM:<${tenant.address('ann')}> SIZE=36700161`)).toBe('552 Error: message exceeds fixed maximum message size 36700160');
    dialog.close();
  });

  it('refuses a message over the limit at the end of DATA when the client did not declare its size', async () => {
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock, maxMessageBytes: 1000 });
    relays.push(relay);
    const { dialog } = await SmtpDialog.open((await relay.listen(0, '127.0.0.1')).port);
    await dialog.exchange('EHLO client.sendguard.test');
    expect(await dialog.send(`MAIL FROM:<${tenant.address('ann')}>`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<too-big@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    expect(await dialog.send(['Subject: Big', '', 'x'.repeat(2000), '.'].join('\r\n'))).toBe('552 5.3.4 Message too big');
    dialog.close();
    expect(sinkMessagesTo('too-big@fabrikam.test')).toHaveLength(0);
  });

  it('does not hold on to a message past the limit while the client goes on sending it', async () => {
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock, maxMessageBytes: 1000 });
    relays.push(relay);
    const port = (await relay.listen(0, '127.0.0.1')).port;
    const socket = net.connect({ host: '127.0.0.1', port });
    let replies = '';
    socket.on('data', (chunk: Buffer) => (replies += chunk.toString('latin1')));
    const replied = (count: number) => waitUntil(() => (replies.match(/^\d{3} /gm) ?? []).length >= count, `${count} replies`);
    await replied(1);
    socket.write(`EHLO client.sendguard.test\r\nMAIL FROM:<${tenant.address('moe')}>\r\nRCPT TO:<huge@fabrikam.test>\r\nDATA\r\n`);
    await replied(5);
    // 400 MB, the client writing on as the relay takes it in, memory sampled as it goes.
    const line = Buffer.from(`${'x'.repeat(1022)}\r\n`.repeat(1024));
    const before = process.memoryUsage().arrayBuffers;
    let most = 0;
    for (let i = 0; i < 400; i++) {
      if (!socket.write(line)) await once(socket, 'drain');
      most = Math.max(most, process.memoryUsage().arrayBuffers - before);
    }
    socket.write('.\r\n');
    await replied(6);
    expect(replies.trim().split('\r\n').pop()).toBe('552 5.3.4 Message too big');
    socket.destroy();
    expect(most).toBeLessThan(100 * 1024 * 1024);
  });

  it('logs a client that goes away during DATA as that, not as the smarthost refusing the message', async () => {
    const { logger, entries } = captureLogs();
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock, logger });
    relays.push(relay);
    const { dialog } = await SmtpDialog.open((await relay.listen(0, '127.0.0.1')).port);
    await dialog.exchange('EHLO client.sendguard.test');
    expect(await dialog.send(`MAIL FROM:<${tenant.address('lou')}>`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<half@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    void dialog.send('Subject: Half\r\n\r\nThe first half');
    dialog.close();
    await waitUntil(() => entries().length > 0, 'a log line');
    expect(entries().map((e) => [e.level, e.msg])).toEqual([[30, 'relay: the client went away during DATA; nothing relayed']]);
    expect(sinkMessagesTo('half@fabrikam.test')).toHaveLength(0);
  });

  it('refuses the recipient over the limit at RCPT with 5.1.8 and relays to the others; a restricted sender is refused at MAIL FROM', async () => {
    const port = await startRelay(['127.0.0.0/8']);
    const carol = tenant.address('carol');
    const to = ['c1@fabrikam.test', 'c2@fabrikam.test', 'c3@fabrikam.test', 'c4@fabrikam.test'];
    const info = await client(port).sendMail(message(carol, to, 'Newsletter'));
    expect(info.accepted).toEqual(to.slice(0, 3));
    expect(info.rejected).toEqual(['c4@fabrikam.test']);
    expect(info.rejectedErrors?.[0]?.response).toBe('550 5.1.8 Access denied, bad outbound sender');
    expect(sinkMessagesTo('c1@fabrikam.test')[0]?.envelope.to).toEqual(to.slice(0, 3));

    await expect(client(port).sendMail(message(carol, ['c5@fabrikam.test'], 'Again'))).rejects.toMatchObject({
      responseCode: 550,
      response: '550 5.1.8 Access denied, bad outbound sender',
      command: 'MAIL FROM',
    });
    // Mail to the restricted user still goes through.
    const toCarol = await client(port).sendMail(message(tenant.address('dave'), [carol], 'Hello Carol'));
    expect(toCarol.accepted).toEqual([carol]);
  });

  it('returns an RFC 3464 NDR with the reference wording when the sender is restricted before the message is relayed', async () => {
    const port = await startRelay(['127.0.0.0/8']);
    const erin = tenant.address('erin');
    const { dialog, greeting } = await SmtpDialog.open(port);
    expect(greeting).toMatch(/^220 /);
    expect(await dialog.send('EHLO client.sendguard.test')).toMatch(/^250 /);
    expect(await dialog.send(`MAIL FROM:<${erin}>`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<late1@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<late2@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: erin, reasonCode: 'SuspectedCompromise', temporary: false, actor: admin });
    const body = [`From: <${erin}>`, 'To: <late1@fabrikam.test>', 'Subject: Invoice 42', 'Message-ID: <invoice-42@sendguard.test>', '', 'Please pay.', '.'].join('\r\n');
    expect(await dialog.send(body)).toMatch(/^250 /);
    await dialog.send('QUIT');
    dialog.close();

    const [ndr] = await waitForMessagesTo(erin);
    expect(sinkMessagesTo('late1@fabrikam.test')).toHaveLength(0);
    expect(ndr?.envelope).toEqual({ from: '', to: [erin] });
    const parsed = ndr!.parsed;
    expect(parsed.subject).toBe('Undeliverable: Invoice 42');
    expect(parsed.from?.value).toEqual([{ name: 'Mail Delivery System', address: 'MAILER-DAEMON@relay.sendguard.test' }]);
    const type = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(type).toMatchObject({ value: 'multipart/report', params: { 'report-type': 'delivery-status' } });
    const [human, status, headers] = await mimeParts(ndr!.raw, type.params.boundary as string);
    expect([human?.contentType, status?.contentType, headers?.contentType]).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect(human?.body.trim()).toBe(RESTRICTED_SENDER_NDR_TEXT);
    expect(status?.body).toContain('Reporting-MTA: dns; relay.sendguard.test');
    expect(status?.body.match(/Final-Recipient: rfc822; late\d@fabrikam\.test\r\nAction: failed\r\nStatus: 5\.1\.8\r\nDiagnostic-Code: smtp; 550 5\.1\.8 Access denied, bad outbound sender/g)).toHaveLength(2);
    expect(headers?.body).toContain('Subject: Invoice 42');
    expect(headers?.body).toContain('Message-ID: <invoice-42@sendguard.test>');
  });
});

describe('a sender an admin blocks while its message is being transferred', () => {
  it('after the message crossed a limit and restricted it for the day: the message is not relayed, the sender gets an NDR', async () => {
    const watching = testServices(database, systemClock, { SENDGUARD_EVENT_POLL_MS: '100' });
    await watching.events.start();
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: watching.enforcement, credentials: watching.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
    relays.push(relay);
    try {
      const port = (await relay.listen(0, '127.0.0.1')).port;
      const daily = await createTestTenant(database);
      await setDefaultPolicy(database, daily.id, { externalPerHour: 1, action: 'BlockUserForToday' });
      const kai = daily.address('kai');
      const { dialog } = await SmtpDialog.open(port);
      await dialog.exchange('EHLO client.sendguard.test');
      expect(await dialog.send(`MAIL FROM:<${kai}>`)).toMatch(/^250 /);
      expect(await dialog.send('RCPT TO:<within@fabrikam.test>')).toMatch(/^250 /);
      expect(await dialog.send('RCPT TO:<crossing@fabrikam.test>')).toBe('550 5.1.8 Access denied, bad outbound sender');
      expect(await dialog.send('DATA')).toMatch(/^354 /);
      const blocked = await watching.restrictUser({ tenantId: daily.id, senderAddress: kai, reasonCode: 'SuspectedCompromise', actor: admin });
      expect(blocked).toMatchObject({ created: false, extended: true });
      await watching.events.flush();
      expect(await dialog.send(['Subject: Payroll change', '', 'New account.', '.'].join('\r\n'))).toMatch(/^250 /);
      dialog.close();

      const [ndr] = await waitForMessagesTo(kai);
      expect(ndr?.parsed.subject).toBe('Undeliverable: Payroll change');
      expect(sinkMessagesTo('within@fabrikam.test')).toHaveLength(0);
    } finally {
      await watching.events.stop();
    }
  });
});

describe('a sender an admin blocks just as its message crosses a limit', () => {
  it('is refused at the end of DATA with an NDR: the restriction the limit found is the admin\'s, not the message\'s own', async () => {
    const restrictions = createRestrictionService({ db: database.db, clock: systemClock });
    const daily = await createTestTenant(database);
    await setDefaultPolicy(database, daily.id, { externalPerHour: 1, action: 'BlockUser' });
    const leo = daily.address('leo');
    // The admin's block lands between the count that crossed the limit and the restriction it places.
    const enforcement = createEnforcementService({
      db: database.db,
      clock: systemClock,
      limits: testConfig().serviceLimits,
      restrictions: {
        async restrict(cmd) {
          if (cmd.reasonCode === 'SendingLimitExceeded') await restrictions.restrict({ tenantId: daily.id, entityKind: 'user', entityKey: leo, reasonCode: 'SuspectedCompromise', temporary: false, actor: admin });
          return restrictions.restrict(cmd);
        },
      },
      options: { unknownSender: 'accept', databaseUnavailable: 'defer', restrictionCacheMs: 500, leaseMs: 0, warningThresholdPercent: 80 },
    });
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
    relays.push(relay);
    const { dialog } = await SmtpDialog.open((await relay.listen(0, '127.0.0.1')).port);
    await dialog.exchange('EHLO client.sendguard.test');
    expect(await dialog.send(`MAIL FROM:<${leo}>`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<leo1@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<leo2@fabrikam.test>')).toBe('550 5.1.8 Access denied, bad outbound sender');
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    expect(await dialog.send(['Subject: Wire transfer', '', 'Today.', '.'].join('\r\n'))).toMatch(/^250 /);
    dialog.close();
    const [ndr] = await waitForMessagesTo(leo);
    expect(ndr?.parsed.subject).toBe('Undeliverable: Wire transfer');
    expect(sinkMessagesTo('leo1@fabrikam.test')).toHaveLength(0);
  });
});

describe('recipients the smarthost refuses', () => {
  const gone = ['gone1@fabrikam.test', 'gone2@fabrikam.test'];
  const goneUtf8 = 'jürgen+news@bücher.fabrikam.test';
  let picky: SmtpSink;
  let port: number;

  beforeAll(async () => {
    picky = await startSmtpSink({ rejectRecipients: [...gone, goneUtf8] });
    const forwarder = createSmarthostForwarder(picky.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
    relays.push(relay);
    port = (await relay.listen(0, '127.0.0.1')).port;
  });
  afterAll(async () => picky.stop());

  const arrivedAt = (address: string) => picky.messages.filter((m) => m.envelope.to.includes(address));

  it('are not lost: the others get the message, and the sender an NDR naming each refused recipient with the smarthost\'s reply', async () => {
    const fay = tenant.address('fay');
    const info = await client(port).sendMail({ ...message(fay, ['kept@fabrikam.test', ...gone], 'Minutes'), messageId: '<minutes-7@sendguard.test>' });
    expect(info.accepted).toEqual(['kept@fabrikam.test', ...gone]);
    expect(arrivedAt('kept@fabrikam.test')[0]?.envelope).toEqual({ from: fay, to: ['kept@fabrikam.test'] });

    await picky.waitFor(2);
    const ndr = arrivedAt(fay)[0];
    expect(ndr?.envelope).toEqual({ from: '', to: [fay] });
    expect(ndr?.parsed.subject).toBe('Undeliverable: Minutes');
    const type = ndr!.parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    const [human, status, headers] = await mimeParts(ndr!.raw, type.params.boundary as string);
    expect(human?.body).toContain('gone1@fabrikam.test');
    expect(human?.body).toContain("Remote Server returned '550 5.1.1 mailbox unavailable'");
    expect(status?.body.match(/Final-Recipient: rfc822; gone\d@fabrikam\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 mailbox unavailable/g)).toHaveLength(2);
    expect(status?.body).not.toContain('kept@fabrikam.test');
    expect(headers?.body).toContain('Message-ID: <minutes-7@sendguard.test>');
  });

  it('that are SMTPUTF8 addresses: reported with the utf-8 address type in a message/global-delivery-status (RFC 6533), in UTF-8', async () => {
    const gil = tenant.address('gil');
    const info = await client(port).sendMail(message(gil, ['kept2@fabrikam.test', goneUtf8, 'gone1@fabrikam.test'], 'Grüße'));
    expect(info.accepted).toEqual(['kept2@fabrikam.test', goneUtf8, 'gone1@fabrikam.test']);
    await expect.poll(() => arrivedAt(gil)).toHaveLength(1);
    const ndr = arrivedAt(gil)[0]!;
    const type = ndr.parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(type).toMatchObject({ value: 'multipart/report', params: { 'report-type': 'global-delivery-status' } });
    const [human, status] = await mimeParts(ndr.raw, type.params.boundary as string);
    expect(status?.contentType).toBe('message/global-delivery-status');
    expect(human?.body).toContain(`Your message couldn't be delivered to ${goneUtf8}.`);
    // The address in its utf-8-addr-unitext form: "+" (like "=" and "\\") written as \x{HEX}.
    expect(status?.body).toContain('Final-Recipient: utf-8; jürgen\\x{2B}news@bücher.fabrikam.test\r\nAction: failed\r\nStatus: 5.1.1\r\n');
    expect(status?.body).toContain('Final-Recipient: rfc822; gone1@fabrikam.test\r\n');

    // Original headers in 8-bit UTF-8 (an SMTPUTF8 message) come back as message/global-headers.
    const hanna = tenant.address('hanna');
    const { dialog } = await SmtpDialog.open(port);
    await dialog.exchange('EHLO client.sendguard.test');
    expect(await dialog.send(`MAIL FROM:<${hanna}> SMTPUTF8`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<kept3@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<gone2@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('DATA')).toMatch(/^354 /);
    expect(await dialog.send(['Subject: Grüße aus Zürich', '', 'Hallo.', '.'].join('\r\n'))).toMatch(/^250 /);
    dialog.close();
    await expect.poll(() => arrivedAt(hanna)).toHaveLength(1);
    const second = arrivedAt(hanna)[0]!;
    const secondType = second.parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    const [, ascii, headers] = await mimeParts(second.raw, secondType.params.boundary as string);
    expect([ascii?.contentType, headers?.contentType]).toEqual(['message/delivery-status', 'message/global-headers']);
    // 8-bit content is declared as such (RFC 2045), so a server converting to 7 bits knows to.
    expect(second.raw).toContain('Content-Type: message/global-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n');
    // The report's own header section stays ASCII (its subject in encoded words): no SMTPUTF8 needed to carry it.
    expect(second.parsed.subject).toBe('Undeliverable: Grüße aus Zürich');
    expect(second.raw.slice(0, second.raw.indexOf('\r\n\r\n'))).not.toMatch(/[^\t\r\n\x20-\x7e]/);
    expect(headers?.body).toContain('Subject: Grüße aus Zürich');
  });
});

describe('recipients the smarthost defers (4xx)', () => {
  const full = ['full1@fabrikam.test', 'full2@fabrikam.test'];
  let busy: SmtpSink;
  let port: number;

  beforeAll(async () => {
    busy = await startSmtpSink({ deferRecipients: full, rejectRecipients: ['gone3@fabrikam.test'] });
    const forwarder = createSmarthostForwarder(busy.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
    relays.push(relay);
    port = (await relay.listen(0, '127.0.0.1')).port;
  });
  afterAll(async () => busy.stop());

  const arrivedAt = (address: string) => busy.messages.filter((m) => m.envelope.to.includes(address));

  it('every one of them: the client gets the smarthost\'s temporary reply and keeps the message to retry', async () => {
    const deferred = { responseCode: 452, response: '452 4.2.2 Mailbox full, try again later' };
    await expect(client(port).sendMail(message(tenant.address('lea'), full, 'Later'))).rejects.toMatchObject(deferred);
    await expect(client(port).sendMail(message(tenant.address('lea'), [...full, 'gone3@fabrikam.test'], 'Later'))).rejects.toMatchObject(deferred);
    expect(busy.messages).toHaveLength(0);
  });

  it('some, while the others take it: the NDR gives their 4.x.x status and tells the sender they were not retried', async () => {
    const max = tenant.address('max');
    const info = await client(port).sendMail(message(max, ['kept4@fabrikam.test', 'full1@fabrikam.test', 'gone3@fabrikam.test'], 'Agenda'));
    expect(info.accepted).toEqual(['kept4@fabrikam.test', 'full1@fabrikam.test', 'gone3@fabrikam.test']);
    await expect.poll(() => arrivedAt(max)).toHaveLength(1);
    expect(arrivedAt('kept4@fabrikam.test')).toHaveLength(1);
    const ndr = arrivedAt(max)[0]!;
    const type = ndr.parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    const [human, status] = await mimeParts(ndr.raw, type.params.boundary as string);
    expect(status?.body).toContain('Final-Recipient: rfc822; full1@fabrikam.test\r\nAction: failed\r\nStatus: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full, try again later');
    expect(status?.body).toContain('Final-Recipient: rfc822; gone3@fabrikam.test\r\nAction: failed\r\nStatus: 5.1.1\r\n');
    expect(human?.body).toContain(
      "Your message couldn't be delivered to full1@fabrikam.test for now, and it was not tried again: send it to full1@fabrikam.test again later. Remote Server returned '452 4.2.2 Mailbox full, try again later'.",
    );
    expect(human?.body).toContain("Your message couldn't be delivered to gone3@fabrikam.test. Remote Server returned '550 5.1.1 mailbox unavailable'.");
  });
});

describe('8-bit messages', () => {
  it('go to the smarthost with BODY=8BITMIME, and so does the NDR that returns their 8-bit headers; 7-bit ones without', async () => {
    const picky = await startSmtpSink({ rejectRecipients: ['gone4@fabrikam.test'] });
    try {
      const forwarder = createSmarthostForwarder(picky.url, { hostname: 'relay.sendguard.test' });
      forwarders.push(forwarder);
      const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
      relays.push(relay);
      const port = (await relay.listen(0, '127.0.0.1')).port;
      const send = async (sender: string, lines: string[], body: string) => {
        const { dialog } = await SmtpDialog.open(port);
        await dialog.exchange('EHLO client.sendguard.test');
        expect(await dialog.send(`MAIL FROM:<${sender}>${body}`)).toMatch(/^250 /);
        expect(await dialog.send('RCPT TO:<kept5@fabrikam.test>')).toMatch(/^250 /);
        expect(await dialog.send('RCPT TO:<gone4@fabrikam.test>')).toMatch(/^250 /);
        expect(await dialog.send('DATA')).toMatch(/^354 /);
        expect(await dialog.send([...lines, '.'].join('\r\n'))).toMatch(/^250 /);
        dialog.close();
        await expect.poll(() => picky.messages.filter((m) => m.envelope.to.includes(sender))).toHaveLength(1);
      };
      const ina = tenant.address('ina');
      await send(ina, ['Subject: Café au lait', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'À bientôt.'], ' BODY=8BITMIME');
      const jon = tenant.address('jon');
      await send(jon, ['Subject: Tea', '', 'See you.'], '');
      const declared = (sender: string) => ({
        message: picky.messages.find((m) => m.envelope.from === sender)?.declared.body,
        ndr: picky.messages.find((m) => m.envelope.to.includes(sender))?.declared.body,
      });
      expect(declared(ina)).toEqual({ message: '8bitmime', ndr: '8bitmime' });
      expect(declared(jon)).toEqual({ message: '7bit', ndr: '7bit' });
    } finally {
      await picky.stop();
    }
  });
});

describe('a smarthost that does not take the message', () => {
  async function relayTo(url: string): Promise<number> {
    const forwarder = createSmarthostForwarder(url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
    relays.push(relay);
    return (await relay.listen(0, '127.0.0.1')).port;
  }

  it('refusing every recipient for good: the client gets the smarthost\'s own reply, not nodemailer\'s wording', async () => {
    const picky = await startSmtpSink({ rejectRecipients: ['nobody@fabrikam.test'] });
    try {
      const port = await relayTo(picky.url);
      await expect(client(port).sendMail(message(tenant.address('hal'), ['nobody@fabrikam.test'], 'Lost cause'))).rejects.toMatchObject({
        responseCode: 550,
        response: '550 5.1.1 mailbox unavailable',
      });
    } finally {
      await picky.stop();
    }
  });

  it('refusing with a multi-line reply: the client gets its text once, without the status code each line repeats', async () => {
    const gmailLike = ['550-5.1.1 The email account that you tried to reach does not exist. Please try', "550-5.1.1 double-checking the recipient's email address for typos or", '550 5.1.1 unnecessary spaces. https://support.example/?p=NoSuchUser'];
    const sockets = new Set<net.Socket>();
    const smarthost = net.createServer((socket) => {
      sockets.add(socket);
      socket.write('220 smarthost.test ESMTP\r\n');
      let buffer = '';
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('latin1');
        for (let nl = buffer.indexOf('\r\n'); nl !== -1; nl = buffer.indexOf('\r\n')) {
          const command = buffer.slice(0, nl).toUpperCase();
          buffer = buffer.slice(nl + 2);
          if (command.startsWith('RCPT')) socket.write(`${gmailLike.join('\r\n')}\r\n`);
          else if (command.startsWith('QUIT')) socket.end('221 2.0.0 Bye\r\n');
          else socket.write('250 2.0.0 Ok\r\n');
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => smarthost.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = await relayTo(`smtp://127.0.0.1:${(smarthost.address() as net.AddressInfo).port}`);
      await expect(client(port).sendMail(message(tenant.address('kim'), ['nobody@fabrikam.test'], 'Typo'))).rejects.toMatchObject({
        responseCode: 550,
        response:
          "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.example/?p=NoSuchUser",
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => smarthost.close(resolve));
    }
  });

  it('taking smaller messages than the relay (SIZE): the client gets the smarthost\'s 552 rather than a 451 to retry for ever', async () => {
    const small = await startSmtpSink({ size: 10_000 });
    try {
      const port = await relayTo(small.url);
      await expect(client(port).sendMail({ ...message(tenant.address('jo'), ['x@fabrikam.test'], 'Big'), text: 'x'.repeat(20_000) })).rejects.toMatchObject({
        responseCode: 552,
        response: '552 5.0.0 Error: message exceeds fixed maximum message size 10000',
      });
      expect(small.messages).toHaveLength(0);
    } finally {
      await small.stop();
    }
  });

  it('refusing the relay\'s own login (a wrong smarthost password): 451 4.4.1, so the client keeps the message and retries', async () => {
    const guarded = await startSmtpSink({ login: { username: 'relay', password: 'right password' } });
    try {
      const wrong = new URL(guarded.url);
      Object.assign(wrong, { username: 'relay', password: 'wrong password' });
      for (const url of [wrong.href, guarded.url]) {
        const port = await relayTo(url);
        await expect(client(port).sendMail(message(tenant.address('ida'), ['x@fabrikam.test'], 'Queued'))).rejects.toMatchObject({
          responseCode: 451,
          response: '451 4.4.1 Could not relay the message now, try again later',
        });
      }
      expect(guarded.messages).toHaveLength(0);
    } finally {
      await guarded.stop();
    }
  });
});

/** The parts of a multipart body, each parsed on its own (content type and decoded body). */
async function mimeParts(raw: string, boundary: string): Promise<{ contentType: string; body: string }[]> {
  const parts = raw.split(`--${boundary}`).slice(1, -1);
  return Promise.all(
    parts.map(async (part) => {
      const entity = part.replace(/^\r\n/, '');
      const parsed = await simpleParser(entity);
      const type = (parsed.headers.get('content-type') as { value: string } | undefined)?.value ?? '';
      const body = entity.slice(entity.indexOf('\r\n\r\n') + 4);
      return { contentType: type, body: type === 'text/plain' ? (parsed.text ?? '') : body };
    }),
  );
}

describe('the SMTP relay while the database refuses connections', () => {
  it.skipIf(!onPostgres)(`answers AUTH with 454 4.7.0, logs that once per 5 s, and authenticates again once the database is back (${needsPostgres})`, async () => {
    const own = await createTestDatabase();
    const name = new URL(own.url as string).pathname.slice(1);
    const ownTenant = await createTestTenant(own);
    const ownServices = testServices(own, systemClock);
    const username = `scanner@${ownTenant.domain}`;
    const password = 'correct horse battery staple';
    await ownServices.relayCredentials.create({ tenantId: ownTenant.id, username, password });
    const { logger, entries } = captureLogs();
    const forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
    forwarders.push(forwarder);
    const relay = createSmtpRelay({ enforcement: ownServices.enforcement, credentials: ownServices.relayCredentials, forwarder, networks: [], hostname: 'relay.sendguard.test', clock: systemClock, logger });
    relays.push(relay);
    const port = (await relay.listen(0, '127.0.0.1')).port;
    const authenticate = async () => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.sendguard.test');
      const reply = await dialog.send(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`);
      dialog.close();
      return reply.trim();
    };
    const refused = '454 4.7.0 Temporary authentication failure';
    expect(await authenticate()).toMatch(/^235 /);

    const adminSql = postgres(postgresUrl as string, { max: 1, onnotice: () => {} });
    try {
      await adminSql.unsafe(`alter database ${name} allow_connections false`);
      await adminSql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      expect([await authenticate(), await authenticate(), await authenticate()]).toEqual([refused, refused, refused]);
      expect(entries().map((l) => l.msg)).toEqual(['relay: credential check failed; answered 454 4.7.0']);
    } finally {
      await adminSql.unsafe(`alter database ${name} allow_connections true`);
      await adminSql.end();
    }
    // postgres.js reconnects with a growing backoff, so the recovery is awaited, not timed.
    let reply = await authenticate();
    while (reply === refused) reply = await authenticate();
    expect(reply).toMatch(/^235 /);
    await own.close();
  }, 60_000);
});

describe('serve --only smtp', () => {
  it('names itself SENDGUARD_SMTP_HOSTNAME: in its greeting, its Received: line and its NDRs, not the machine\'s host name', async () => {
    const picky = await startSmtpSink({ rejectRecipients: ['gone5@fabrikam.test'] });
    const running = await startSendguard(testConfig({ SENDGUARD_SMARTHOST: picky.url, SENDGUARD_SMTP_HOSTNAME: 'Relay.Contoso.test' }), { roles: ['smtp'], database });
    try {
      const { dialog, greeting } = await SmtpDialog.open(Number(new URL(running.urls.smtp ?? '').port));
      expect(greeting).toMatch(/^220 relay\.contoso\.test /);
      dialog.close();
      const sender = tenant.address('named');
      await client(Number(new URL(running.urls.smtp ?? '').port)).sendMail(message(sender, ['kept6@fabrikam.test', 'gone5@fabrikam.test'], 'Named'));
      await expect.poll(() => picky.messages.filter((m) => m.envelope.to.includes(sender))).toHaveLength(1);
      expect(picky.messages.find((m) => m.envelope.from === sender)?.raw).toMatch(/^Received: from .*\r\n\tby relay\.contoso\.test \(Sendguard\)/);
      const ndr = picky.messages.find((m) => m.envelope.to.includes(sender));
      expect(ndr?.parsed.from?.value).toEqual([{ name: 'Mail Delivery System', address: 'MAILER-DAEMON@relay.contoso.test' }]);
    } finally {
      await running.stop();
      await picky.stop();
    }
  });

  it('starts the relay when a smarthost is configured, and reports its URL', async () => {
    const running = await startSendguard(testConfig({ SENDGUARD_SMARTHOST: sink.url }), { roles: ['smtp'], database });
    try {
      const url = new URL(running.urls.smtp ?? '');
      expect(url.protocol).toBe('smtp:');
      const info = await client(Number(url.port)).sendMail(message(tenant.address('served'), ['served@fabrikam.test'], 'Via serve'));
      expect(info.accepted).toEqual(['served@fabrikam.test']);
      expect(sinkMessagesTo('served@fabrikam.test')).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });

  it.each([[{}], [{ SENDGUARD_SMTP_ENABLED: 'true' }]])('without a smarthost exits with code 2 and one line naming SENDGUARD_SMARTHOST (%j), before anything opens', async (env) => {
    const dataDir = path.join(tmpdir(), `sendguard-never-created-${randomUUID()}`);
    const result = await runSendguard(['serve', '--only', 'smtp'], { SENDGUARD_SMARTHOST: '', SENDGUARD_SMTP_ENABLED: 'false', SENDGUARD_HTTP_PORT: '0', SENDGUARD_SMTP_PORT: '0', SENDGUARD_DATA_DIR: dataDir, ...env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['sendguard: invalid configuration: SENDGUARD_SMARTHOST must be set to run the SMTP relay (serve --only smtp): the smtp://host:port it forwards accepted mail to']);
    expect(existsSync(dataDir)).toBe(false);
  });
});

async function waitForMessagesTo(address: string) {
  for (let i = 0; i < 200; i++) {
    const found = sinkMessagesTo(address);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no message to ${address} arrived at the smarthost`);
}
