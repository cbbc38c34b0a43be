import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../domain/clock.ts';
import { createSmarthostForwarder } from '../../mail/smtp-relay/smarthost.ts';
import { createSmtpRelay, type SmtpRelay } from '../../mail/smtp-relay/smtp-relay.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { SmtpDialog } from '../helpers/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { testServices } from '../helpers/services.ts';

// SENDGUARD_LIMIT_RECIPIENTS_PER_DAY=7 under a policy that allows more: five recipients in a first
// message leave room for two, and the service limit, not the policy, refuses the next.
let database: TestDatabase;
let services: ReturnType<typeof testServices>;
let sink: SmtpSink;
let tenant: TestTenant;
let relay: SmtpRelay;
let forwarder: { close(): void };
let port: number;
const password = 'correct horse battery staple';
const serviceLimit = /^550 5\.2\.0 Sender exceeded the service limit of 7 recipients in 24 hours; this clears by itself at /;

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await createTestTenant(database);
  await setDefaultPolicy(database, tenant.id, { internalPerHour: 100, externalPerHour: 100, perDay: 100, action: 'BlockUser' });
  services = testServices(database, systemClock, { SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: '7' });
  sink = await startSmtpSink();
  const smarthost = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
  forwarder = smarthost;
  relay = createSmtpRelay({ enforcement: services.enforcement, credentials: services.relayCredentials, forwarder: smarthost, networks: ['127.0.0.0/8'], hostname: 'relay.sendguard.test', clock: systemClock });
  port = (await relay.listen(0, '127.0.0.1')).port;
});
afterAll(async () => {
  await relay.close();
  forwarder.close();
  await sink.stop();
  await services.enforcement.stop();
  await database.close();
});

/** A session from a trusted network, or authenticated as `user`. */
async function session(user?: string): Promise<SmtpDialog> {
  const { dialog } = await SmtpDialog.open(port);
  await dialog.send('EHLO client.sendguard.test');
  if (user) expect(await dialog.send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`)).toMatch(/^235 /);
  return dialog;
}

const body = (subject: string) => [`Subject: ${subject}`, '', `${subject}.`, '.'].join('\r\n');

/**
 * One message over `dialog`: the reply to each RCPT TO, then the reply at the end of DATA. The
 * relay replies to DATA once the smarthost took what it sent, so the sink already holds it.
 */
async function send(dialog: SmtpDialog, from: string, to: string[], subject: string): Promise<{ rcpt: string[]; data: string }> {
  expect(await dialog.send(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  const rcpt: string[] = [];
  for (const r of to) rcpt.push(await dialog.send(`RCPT TO:<${r}>`));
  expect(await dialog.send('DATA')).toMatch(/^354 /);
  return { rcpt, data: await dialog.send(body(subject)) };
}

const received = (subject: string) => sink.messages.filter((m) => m.parsed.subject === subject).map((m) => m.envelope);
const ndrsTo = (address: string) => sink.messages.filter((m) => m.envelope.from === '' && m.envelope.to.includes(address));
const internal = (n: number, prefix = 'i') => Array.from({ length: n }, (_, k) => tenant.address(`${prefix}${k + 1}`));

async function dayCount(sender: string): Promise<number> {
  return (await services.enforcement.getSenderActivity(tenant.id, sender)).counts.allLast24Hours;
}

describe('the SMTP relay at the service limit (SENDGUARD_LIMIT_RECIPIENTS_PER_DAY)', () => {
  it('relays a message that crosses the limit to the recipients accepted before it, and refuses the sender afterwards', async () => {
    const sender = tenant.address('sv2');
    const [i1, i2, i3, i4, i5, i6, i7, i8] = internal(8);
    const dialog = await session();
    expect(await send(dialog, sender, [i1!, i2!, i3!, i4!, i5!], 'First five')).toMatchObject({ data: expect.stringMatching(/^250 /) });
    const second = await send(dialog, sender, [i6!, i7!, i8!], 'Two more');
    expect(second.rcpt.slice(0, 2)).toEqual(['250 Accepted', '250 Accepted']);
    expect(second.rcpt[2]).toMatch(serviceLimit);
    expect(second.data).toMatch(/^250 /);
    expect(received('Two more')).toEqual([{ from: sender, to: [i6, i7] }]);
    expect(ndrsTo(sender)).toHaveLength(0);
    expect(await dayCount(sender)).toBe(7);
    expect(await dialog.send(`MAIL FROM:<${sender}>`)).toMatch(serviceLimit);
    dialog.close();
  });

  it('relays an authenticated null-sender message that crosses the limit to the recipients accepted before it', async () => {
    const user = tenant.address('scanner');
    await services.relayCredentials.create({ tenantId: tenant.id, username: user, password });
    const to = internal(8, 'r');
    const dialog = await session(user);
    expect((await send(dialog, '', to.slice(0, 5), 'Read: first five')).data).toMatch(/^250 /);
    const second = await send(dialog, '', to.slice(5), 'Read: two more');
    expect(second.rcpt.slice(0, 2)).toEqual(['250 Accepted', '250 Accepted']);
    expect(second.rcpt[2]).toMatch(serviceLimit);
    expect(second.data).toMatch(/^250 /);
    expect(received('Read: two more')).toEqual([{ from: '', to: to.slice(5, 7) }]);
    expect(await dayCount(user)).toBe(7);
    dialog.close();
  });

  it('sends an NDR instead when another message of the sender crossed the limit while this one was open', async () => {
    const sender = tenant.address('sv3');
    const first = await session();
    expect((await send(first, sender, internal(5, 'f'), 'Five first')).data).toMatch(/^250 /);
    // This message has a recipient accepted when another one of the same sender crosses the limit.
    expect(await first.send(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    expect(await first.send(`RCPT TO:<${tenant.address('open1')}>`)).toBe('250 Accepted');
    const other = await session();
    const crossing = await send(other, sender, [tenant.address('other1'), tenant.address('other2')], 'The other one');
    expect(crossing.rcpt[0]).toBe('250 Accepted');
    expect(crossing.rcpt[1]).toMatch(serviceLimit);
    expect(crossing.data).toMatch(/^250 /);
    other.close();
    // Refused because of the other message's restriction, not one this message placed.
    expect(await first.send(`RCPT TO:<${tenant.address('open2')}>`)).toMatch(serviceLimit);
    expect(await first.send('DATA')).toMatch(/^354 /);
    expect(await first.send(body('Still open'))).toMatch(/^250 /);
    first.close();

    const [ndr] = ndrsTo(sender);
    expect(ndr?.parsed.subject).toBe('Undeliverable: Still open');
    expect(ndr?.raw).toMatch(/Final-Recipient: rfc822; open1@\S+\r\nAction: failed\r\nStatus: 5\.2\.0\r\nDiagnostic-Code: smtp; 550 5\.2\.0 Sender exceeded the service limit of 7 /);
    expect(received('Still open')).toEqual([]);
    expect(received('The other one')).toEqual([{ from: sender, to: [tenant.address('other1')] }]);
    expect(await dayCount(sender)).toBe(7);
  });
});
