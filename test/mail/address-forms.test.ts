import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedRecipients } from '../../db/schema/sending-counters.ts';
import { systemClock } from '../../domain/clock.ts';
import { createPolicyServer, type PolicyServer } from '../../mail/policy-server/policy-server.ts';
import { createSmarthostForwarder } from '../../mail/smtp-relay/smarthost.ts';
import { createSmtpRelay, type SmtpRelay } from '../../mail/smtp-relay/smtp-relay.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { admin, testServices } from '../helpers/services.ts';
import { SmtpDialog } from '../helpers/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

// Postfix hands the policy server the envelope addresses as the client wrote them, and then
// delivers them in its own canonical form: each spelling of one address must be one sender.

const refused = '550 5.1.8 Access denied, bad outbound sender';

let database: TestDatabase;
let services: ReturnType<typeof testServices>;
let policyServer: PolicyServer;
let policyPort: number;
let sink: SmtpSink;
let relay: SmtpRelay;
let relayPort: number;
const clients: PolicyClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, systemClock, { SENDGUARD_EVENT_POLL_MS: '100' });
  await services.events.start();
  policyServer = createPolicyServer({ enforcement: services.enforcement });
  policyPort = (await policyServer.listen(0, '127.0.0.1')).port;
  sink = await startSmtpSink();
  relay = createSmtpRelay({
    enforcement: services.enforcement,
    credentials: services.relayCredentials,
    forwarder: createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' }),
    networks: ['127.0.0.0/8'],
    hostname: 'relay.sendguard.test',
    clock: systemClock,
  });
  relayPort = (await relay.listen(0, '127.0.0.1')).port;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await policyServer.close();
  await relay.close();
  await sink.stop();
  await services.events.stop();
  await database.close();
});

async function tenantWith(options: { domains?: string[] } = {}): Promise<TestTenant> {
  const tenant = await createTestTenant(database, options);
  await setDefaultPolicy(database, tenant.id, { externalPerHour: 100, internalPerHour: 100, action: 'BlockUser' });
  services.enforcement.invalidate();
  return tenant;
}

async function ask(attrs: { sender: string; recipient: string; sasl_username?: string }): Promise<string> {
  const client = await PolicyClient.connect(policyPort);
  clients.push(client);
  return client.ask(rcptRequest(attrs));
}

async function restrict(tenant: TestTenant, address: string): Promise<void> {
  await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: admin });
  await services.events.flush();
}

async function countedFor(tenant: TestTenant) {
  return database.db
    .select({ sender: countedRecipients.sender, recipient: countedRecipients.recipient, internal: countedRecipients.internal })
    .from(countedRecipients)
    .where(eq(countedRecipients.tenantId, tenant.id))
    .orderBy(asc(countedRecipients.createdAt), asc(countedRecipients.recipient));
}

describe('a domain written with the root\'s trailing dot', () => {
  it('is the same sender: counted, and refused once restricted', async () => {
    const tenant = await tenantWith();
    const s1 = tenant.address('s1');
    expect(await ask({ sender: `${s1}.`, recipient: 'x@fabrikam.test' })).toBe('DUNNO');
    expect(await ask({ sender: `S1@${tenant.domain.toUpperCase()}.`, recipient: 'y@fabrikam.test' })).toBe('DUNNO');
    expect((await services.enforcement.getSenderActivity(tenant.id, s1)).counts.externalLastHour).toBe(2);
    await restrict(tenant, s1);
    expect(await ask({ sender: `${s1}.`, recipient: 'z@fabrikam.test' })).toBe(refused);
    expect(await ask({ sender: s1, recipient: 'z@fabrikam.test' })).toBe(refused);
  });

  it('is an internal recipient, counted under its plain spelling', async () => {
    const tenant = await tenantWith();
    const ann = tenant.address('ann');
    expect(await ask({ sender: ann, recipient: `${tenant.address('z')}.` })).toBe('DUNNO');
    expect(await ask({ sender: ann, recipient: 'ext@fabrikam.test.' })).toBe('DUNNO');
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts).toMatchObject({ internalLastHour: 1, externalLastHour: 1 });
    expect(await countedFor(tenant)).toEqual([
      { sender: ann, recipient: tenant.address('z'), internal: true },
      { sender: ann, recipient: 'ext@fabrikam.test', internal: false },
    ]);
  });

  it('is the same SASL login, and the same user to restrict: a restricted login cannot send by adding the dot', async () => {
    const tenant = await tenantWith();
    const a = tenant.address('a');
    await restrict(tenant, `${a}.`);
    expect((await services.restrictionQueries.latest(tenant.id, 'user', a))?.entityKey).toBe(a);
    expect(await ask({ sender: '', recipient: 'x@fabrikam.test', sasl_username: `${a}.` })).toBe(refused);
    expect(await ask({ sender: 'spam@nowhere.test', recipient: 'x@fabrikam.test', sasl_username: `A@${tenant.domain}.` })).toBe(refused);
  });
});

// Accepted domains are kept in their ASCII form; an SMTPUTF8 client (and Postfix with it) writes
// the UTF-8 one. Each test has an internationalised domain of its own.
describe('an internationalised domain written in UTF-8', () => {
  it('is the same sender as its ASCII spelling: counted in its tenant, refused once restricted', async () => {
    const tenant = await tenantWith({ domains: ['xn--bcher-kva.example'] });
    expect(await ask({ sender: 'u9@bücher.example', recipient: 'x@bücher.example' })).toBe('DUNNO');
    expect(await ask({ sender: 'U9@XN--BCHER-KVA.example', recipient: 'y@fabrikam.test' })).toBe('DUNNO');
    expect(await ask({ sender: 'u9@mail.bücher.example.', recipient: 'z@fabrikam.test' })).toBe('DUNNO');
    expect(await countedFor(tenant)).toEqual([
      { sender: 'u9@xn--bcher-kva.example', recipient: 'x@xn--bcher-kva.example', internal: true },
      { sender: 'u9@xn--bcher-kva.example', recipient: 'y@fabrikam.test', internal: false },
      { sender: 'u9@mail.xn--bcher-kva.example', recipient: 'z@fabrikam.test', internal: false },
    ]);
    await restrict(tenant, 'u9@xn--bcher-kva.example');
    expect(await ask({ sender: 'u9@bücher.example', recipient: 'x@fabrikam.test' })).toBe(refused);
    expect(await ask({ sender: '', recipient: 'x@fabrikam.test', sasl_username: 'U9@Bücher.example' })).toBe(refused);
  });

  it('leaves a name that is no valid IDN as it is: no tenant of its own, an external recipient', async () => {
    const tenant = await tenantWith({ domains: ['xn--mnchen-3ya.example'] });
    const ann = tenant.address('ann');
    // A joiner where none may stand.
    const invalid = 'm\u200dünchen.example';
    expect(await ask({ sender: `u9@${invalid}`, recipient: 'x@fabrikam.test' })).toBe('DUNNO');
    expect(await ask({ sender: ann, recipient: `x@${invalid}` })).toBe('DUNNO');
    expect(await ask({ sender: ann, recipient: 'y@münchen.example' })).toBe('DUNNO');
    expect(await countedFor(tenant)).toEqual([
      { sender: ann, recipient: `x@${invalid}`, internal: false },
      { sender: ann, recipient: 'y@xn--mnchen-3ya.example', internal: true },
    ]);
  });

  it('is the same sender at the SMTP relay: counted there, refused at MAIL FROM once restricted', async () => {
    const tenant = await tenantWith({ domains: ['xn--zrich-kva.example'] });
    const { dialog } = await SmtpDialog.open(relayPort);
    expect(await dialog.exchange('EHLO client.sendguard.test')).toMatch(/^250[- ]SMTPUTF8$/m);
    expect(await dialog.send('MAIL FROM:<u9@zürich.example> SMTPUTF8')).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<colleague@zürich.example>')).toMatch(/^250 /);
    expect(await dialog.send('RSET')).toMatch(/^250 /);
    expect((await services.enforcement.getSenderActivity(tenant.id, 'u9@xn--zrich-kva.example')).counts).toMatchObject({ internalLastHour: 1, externalLastHour: 0 });
    await restrict(tenant, 'u9@zürich.example');
    expect(await dialog.send('MAIL FROM:<u9@zürich.example> SMTPUTF8')).toBe(refused);
    expect(await dialog.send('MAIL FROM:<u9@xn--zrich-kva.example>')).toBe(refused);
    dialog.close();
  });
});

// Postfix takes a quoted local part in its unquoted (internal) form: `"ann"@x` is delivered to,
// and handed to the policy server as, `ann@x`.
describe('a quoted local part', () => {
  it('is the same sender at the SMTP relay: counted as the plain address, refused at MAIL FROM once restricted', async () => {
    const tenant = await tenantWith();
    const ann = tenant.address('ann');
    const { dialog } = await SmtpDialog.open(relayPort);
    await dialog.exchange('EHLO client.sendguard.test');
    expect(await dialog.send(`MAIL FROM:<"Ann"@${tenant.domain}>`)).toMatch(/^250 /);
    expect(await dialog.send('RCPT TO:<"x.y"@fabrikam.test>')).toMatch(/^250 /);
    expect(await dialog.send('RSET')).toMatch(/^250 /);
    expect(await countedFor(tenant)).toEqual([{ sender: ann, recipient: 'x.y@fabrikam.test', internal: false }]);
    await restrict(tenant, ann);
    expect(await dialog.send(`MAIL FROM:<"ann"@${tenant.domain}>`)).toBe(refused);
    expect(await dialog.send(`MAIL FROM:<"\\ann"@${tenant.domain}>`)).toBe(refused);
    dialog.close();
  });

  it('is kept unquoted, its escapes undone, as Postfix keeps it', async () => {
    const tenant = await tenantWith();
    expect(await ask({ sender: `"Ann Smith"@${tenant.domain}`, recipient: 'x@fabrikam.test' })).toBe('DUNNO');
    expect(await ask({ sender: tenant.address('bob'), recipient: '"y\\"z"@fabrikam.test' })).toBe('DUNNO');
    expect(await countedFor(tenant)).toEqual([
      { sender: `ann smith@${tenant.domain}`, recipient: 'x@fabrikam.test', internal: false },
      { sender: tenant.address('bob'), recipient: 'y"z@fabrikam.test', internal: false },
    ]);
    expect((await services.enforcement.getSenderActivity(tenant.id, `"ANN SMITH"@${tenant.domain}`)).counts.externalLastHour).toBe(1);
  });
});
