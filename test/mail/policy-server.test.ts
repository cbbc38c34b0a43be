import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../api/metrics.ts';
import { insertConnector } from '../../db/repos/connectors.ts';
import { systemClock } from '../../domain/clock.ts';
import type { Decision } from '../../domain/enforcement/decision.ts';
import { createPolicyServer, type PolicyServer } from '../../mail/policy-server/policy-server.ts';
import { createTestDatabase, createTestTenant, type TestDatabase } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { encodeRequest, PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { admin, testServices } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';

let database: TestDatabase;
let services: ReturnType<typeof testServices>;
let server: PolicyServer;
let port: number;
const metrics = createMetrics();
const clients: PolicyClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, systemClock, { SENDGUARD_EVENT_POLL_MS: '100' });
  await services.events.start();
  server = createPolicyServer({ enforcement: services.enforcement, metrics });
  port = (await server.listen(0, '127.0.0.1')).port;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  await services.events.stop();
  await database.close();
});

async function connect(): Promise<PolicyClient> {
  const client = await PolicyClient.connect(port);
  clients.push(client);
  return client;
}

async function tenantWith(limits: Parameters<typeof setDefaultPolicy>[2]) {
  const tenant = await createTestTenant(database);
  await setDefaultPolicy(database, tenant.id, limits);
  services.enforcement.invalidate();
  return tenant;
}

describe('the policy delegation protocol', () => {
  it('answers DUNNO on a persistent connection, ignoring attributes it does not know, with LF or CRLF line ends', async () => {
    const tenant = await tenantWith({});
    const client = await connect();
    const ann = tenant.address('ann');
    expect(await client.ask({ ...rcptRequest({ sender: ann, recipient: 'a@fabrikam.test' }), future_attribute: 'x=y=z' })).toBe('DUNNO');
    expect(await client.ask(rcptRequest({ sender: ann, recipient: 'b@fabrikam.test' }))).toBe('DUNNO');
    const reply = client.nextReply();
    client.write(encodeRequest(rcptRequest({ sender: ann, recipient: 'c@fabrikam.test' })).replace(/\n/g, '\r\n'));
    expect(await reply).toBe('action=DUNNO');
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLastHour).toBe(3);
  });

  it('checks and counts only at the RCPT stage', async () => {
    const tenant = await tenantWith({});
    const client = await connect();
    const ann = tenant.address('ann');
    for (const state of ['CONNECT', 'EHLO', 'MAIL', 'DATA', 'END-OF-MESSAGE', 'VRFY', 'ETRN']) {
      expect(await client.ask(rcptRequest({ sender: ann, recipient: 'x@fabrikam.test', protocol_state: state }))).toBe('DUNNO');
    }
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLastHour).toBe(0);
  });

  it('refuses the recipient that crosses the limit with 5.1.8, then every recipient of the sender', async () => {
    const tenant = await tenantWith({ externalPerHour: 2, action: 'BlockUser' });
    const client = await connect();
    const ann = tenant.address('ann');
    const ask = (recipient: string) => client.ask(rcptRequest({ sender: ann, recipient, instance: 'one.message' }));
    expect([await ask('a@fabrikam.test'), await ask('b@fabrikam.test'), await ask('c@fabrikam.test')]).toEqual([
      'DUNNO',
      'DUNNO',
      '550 5.1.8 Access denied, bad outbound sender',
    ]);
    expect(await client.ask(rcptRequest({ sender: ann, recipient: tenant.address('bob') }))).toBe('550 5.1.8 Access denied, bad outbound sender');
    expect(await client.ask(rcptRequest({ sender: tenant.address('bob'), recipient: ann }))).toBe('DUNNO');
    const text = await metrics.registry.getSingleMetricAsString('sendguard_policy_requests_total');
    expect(text).toContain('decision="limit-restricted"} 1');
  });

  it('answers pipelined requests one at a time, in order', async () => {
    const tenant = await tenantWith({ externalPerHour: 1, action: 'BlockUser' });
    const client = await connect();
    const ann = tenant.address('ann');
    const first = client.nextReply();
    const second = client.nextReply();
    client.write(encodeRequest(rcptRequest({ sender: ann, recipient: 'a@fabrikam.test' })) + encodeRequest(rcptRequest({ sender: ann, recipient: 'b@fabrikam.test' })));
    expect([await first, await second]).toEqual(['action=DUNNO', 'action=550 5.1.8 Access denied, bad outbound sender']);
  });

  it('answers a client that sends far ahead of its replies, every request in order', async () => {
    const tenant = await tenantWith({ externalPerHour: 300, action: 'BlockUser' });
    const client = await connect();
    const ann = tenant.address('ann');
    const replies = Array.from({ length: 301 }, () => client.nextReply());
    client.write(Array.from({ length: 301 }, (_, i) => encodeRequest(rcptRequest({ sender: ann, recipient: `r${i}@fabrikam.test`, instance: `m${Math.floor(i / 50)}` }))).join(''));
    const answered = await Promise.all(replies);
    expect(answered.slice(0, 300).every((r) => r === 'action=DUNNO')).toBe(true);
    expect(answered[300]).toBe('action=550 5.1.8 Access denied, bad outbound sender');
  });

  it('answers every complete request of a client that half-closes after sending (printf … | nc), then closes; an unfinished one is dropped uncounted', async () => {
    const tenant = await tenantWith({});
    const client = await connect();
    const ann = tenant.address('ann');
    const replies = [client.nextReply(), client.nextReply()];
    client.write(
      encodeRequest(rcptRequest({ sender: ann, recipient: 'a@fabrikam.test' })) +
        encodeRequest(rcptRequest({ sender: ann, recipient: 'b@fabrikam.test' })) +
        'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=' + ann + '\nrecipient=c@fabrikam.test\n',
    );
    client.socket.end();
    expect(await Promise.all(replies)).toEqual(['action=DUNNO', 'action=DUNNO']);
    await client.closed;
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLastHour).toBe(2);
  });

  it('refuses a client inside a restricted connector with 5.7.711', async () => {
    const tenant = await tenantWith({});
    const connector = await insertConnector(database.db, { tenantId: tenant.id, name: 'On-premises', clientIpRanges: ['127.0.5.0/24', 'not-a-range'] });
    const client = await connect();
    const ask = (clientAddress: string) => client.ask(rcptRequest({ sender: tenant.address('ann'), recipient: 'x@fabrikam.test', client_address: clientAddress }));
    expect(await ask('127.0.5.9')).toBe('DUNNO');
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'SuspectedCompromise', temporary: false, actor: admin });
    await services.events.flush();
    expect(await ask('127.0.5.9')).toBe('550 5.7.711 Access denied, bad inbound connector');
    expect(await ask('::ffff:127.0.5.10')).toBe('550 5.7.711 Access denied, bad inbound connector');
    expect(await ask('127.0.6.1')).toBe('DUNNO');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reason: 'patched', acknowledgedRecommendations: [], actor: admin });
    await services.events.flush();
    expect(await ask('127.0.5.9')).toBe('DUNNO');
  });

  it('counts and restricts the SASL login also when the sender is null or of a domain no tenant accepts', async () => {
    const tenant = await tenantWith({});
    const client = await connect();
    const scanner = tenant.address('scanner');
    const ask = (sender: string, recipient: string) => client.ask(rcptRequest({ sender, recipient, sasl_username: scanner }));
    expect([await ask('', 'a@fabrikam.test'), await ask('spam@nowhere.test', 'b@fabrikam.test')]).toEqual(['DUNNO', 'DUNNO']);
    expect((await services.enforcement.getSenderActivity(tenant.id, scanner)).counts.externalLastHour).toBe(2);
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: scanner, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    await services.events.flush();
    expect([await ask('', 'c@fabrikam.test'), await ask('spam@nowhere.test', 'd@fabrikam.test')]).toEqual([
      '550 5.1.8 Access denied, bad outbound sender',
      '550 5.1.8 Access denied, bad outbound sender',
    ]);
  });

  it('lets senders of domains no tenant accepts through with DUNNO', async () => {
    const client = await connect();
    expect(await client.ask(rcptRequest({ sender: 'someone@fabrikam.test', recipient: 'x@fabrikam.test' }))).toBe('DUNNO');
    expect(await client.ask(rcptRequest({ sender: '', recipient: 'x@fabrikam.test' }))).toBe('DUNNO');
  });
});

describe('bad clients', () => {
  async function servedMeanwhile(): Promise<string> {
    const tenant = await tenantWith({});
    const other = await connect();
    return other.ask(rcptRequest({ sender: tenant.address('ann'), recipient: 'x@fabrikam.test' }));
  }

  it.each([
    ['garbage', Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is not a policy request\n\n', 'latin1')],
    ['a line without "="', Buffer.from('request=smtpd_access_policy\nprotocol_state RCPT\n\n')],
    ['an empty request', Buffer.from('\n')],
    ['1 MB of attributes', Buffer.from(Array.from({ length: 40_000 }, (_, i) => `attribute_${i}=${'v'.repeat(20)}`).join('\n'))],
    ['more than 1,000 attributes', Buffer.from(`${Array.from({ length: 1001 }, (_, i) => `a${i}=1`).join('\n')}\n\n`)],
  ])('%s: the connection is closed without a reply, and others are served', async (_name, bytes) => {
    const bad = await connect();
    const reply = bad.nextReply();
    bad.write(bytes);
    expect(await reply).toBe('closed');
    expect(await servedMeanwhile()).toBe('DUNNO');
  });

  it('complete requests before a malformed one in the same read are answered in order, then the connection is closed without a reply to it', async () => {
    const tenant = await tenantWith({ externalPerHour: 1, action: 'BlockUser' });
    const ann = tenant.address('ann');
    const bad = await connect();
    const replies = [bad.nextReply(), bad.nextReply(), bad.nextReply()];
    bad.write(
      encodeRequest(rcptRequest({ sender: ann, recipient: 'a@fabrikam.test' })) +
        encodeRequest(rcptRequest({ sender: ann, recipient: 'b@fabrikam.test' })) +
        'request=smtpd_access_policy\nprotocol_state RCPT\n\n' +
        encodeRequest(rcptRequest({ sender: ann, recipient: 'c@fabrikam.test' })),
    );
    expect(await Promise.all(replies)).toEqual(['action=DUNNO', 'action=550 5.1.8 Access denied, bad outbound sender', 'closed']);
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLastHour).toBe(1);
    const text = await metrics.registry.getSingleMetricAsString('sendguard_policy_requests_total');
    expect(text).toContain('decision="protocol-malformed"}');
    expect(await servedMeanwhile()).toBe('DUNNO');
  });

  it('a request that never ends (no empty line) holds only its own connection', async () => {
    const slow = await connect();
    let answered = false;
    void slow.nextReply().then(() => (answered = true));
    slow.write('request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b.test\n');
    expect(await servedMeanwhile()).toBe('DUNNO');
    expect(await servedMeanwhile()).toBe('DUNNO');
    expect(answered).toBe(false);
  });
});

describe('answers from memory', () => {
  it('never lets a request answered from memory overtake one waiting for the database', async () => {
    let release: (d: Decision) => void = () => undefined;
    const asked: string[] = [];
    const stub = createPolicyServer({
      enforcement: {
        checkRecipient: (check) => {
          asked.push(`database ${check.recipient}`);
          return new Promise<Decision>((resolve) => (release = resolve));
        },
        answerFromMemory: (check) => {
          asked.push(`memory ${check.recipient}`);
          return check.recipient.startsWith('leased') ? { verdict: 'accept', smtpCode: 250, enhancedCode: '2.0.0', text: 'OK', reason: 'accepted' } : undefined;
        },
      },
    });
    const stubPort = (await stub.listen(0, '127.0.0.1')).port;
    const client = await PolicyClient.connect(stubPort);
    clients.push(client);
    const replies = [client.nextReply(), client.nextReply(), client.nextReply()];
    client.write(['new@d.test', 'leased1@d.test', 'leased2@d.test'].map((recipient) => encodeRequest(rcptRequest({ sender: 'a@b.test', recipient }))).join(''));
    await expect.poll(() => asked).toEqual(['memory new@d.test', 'database new@d.test']);
    let answered = 0;
    for (const r of replies) void r.then(() => answered++);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(0);
    release({ verdict: 'reject', smtpCode: 550, enhancedCode: '5.1.8', text: 'Access denied, bad outbound sender', reason: 'restricted' });
    expect(await Promise.all(replies)).toEqual(['action=550 5.1.8 Access denied, bad outbound sender', 'action=DUNNO', 'action=DUNNO']);
    expect(asked).toEqual(['memory new@d.test', 'database new@d.test', 'memory leased1@d.test', 'memory leased2@d.test']);
    await stub.close();
  });
});

describe('a client that does not read its replies', () => {
  it('is no longer read from until it takes them, then gets every reply in order', async () => {
    // Every fifth recipient goes to the database, the others are answered from memory. Each reply
    // names its recipient, and is longer than its request, so that the kernel's buffers fill up early.
    const text = (recipient: string | number) => `Recipient ${recipient} is not accepted by this test policy, in order`;
    const refuse = (recipient: string): Decision => ({ verdict: 'reject', smtpCode: 550, enhancedCode: '5.7.1', text: text(recipient), reason: 'restricted' });
    const stub = createPolicyServer({
      enforcement: {
        checkRecipient: async (check) => refuse(check.recipient),
        answerFromMemory: (check) => (Number(check.recipient) % 5 === 0 ? undefined : refuse(check.recipient)),
      },
    });
    const served: net.Socket[] = [];
    stub.server.on('connection', (socket) => served.push(socket));
    const stubPort = (await stub.listen(0, '127.0.0.1')).port;
    const client = net.connect({ host: '127.0.0.1', port: stubPort });
    client.pause();
    await once(client, 'connect');
    const count = 400_000;
    let sent = 0;
    for (let i = 0; i < count; i += 10_000) {
      const requests = Array.from({ length: 10_000 }, (_, j) => `protocol_state=RCPT\nrecipient=${i + j}\n\n`).join('');
      client.write(requests);
      sent += requests.length;
    }
    const socket = served[0] as net.Socket;
    // Wait until the server reads no more (or has read everything).
    let read = -1;
    for (let still = 0; still < 5 && read < sent; await new Promise((resolve) => setTimeout(resolve, 50))) {
      still = socket.bytesRead === read ? still + 1 : 0;
      read = socket.bytesRead;
    }
    expect(read).toBeLessThan(sent / 4);
    expect(socket.writableLength).toBeLessThan(1024 * 1024);
    expect(client.writableLength).toBeGreaterThan(0);

    let buffered = '';
    let next = 0;
    let outOfOrder: string | undefined;
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => {
      const replies = (buffered + chunk).split('\n\n');
      buffered = replies.pop() ?? '';
      for (const reply of replies) {
        if (reply !== `action=550 5.7.1 ${text(next)}` && outOfOrder === undefined) outOfOrder = `reply ${next}: ${reply}`;
        next++;
      }
    });
    client.resume();
    await waitUntil(() => next >= count, 'every reply', 120_000);
    expect(outOfOrder).toBeUndefined();
    expect(next).toBe(count);
    client.destroy();
    await stub.close();
  });
});

describe('a fault answering from memory', () => {
  it('sends the request down the full path and keeps the connection', async () => {
    const stub = createPolicyServer({
      enforcement: {
        checkRecipient: async () => ({ verdict: 'defer', smtpCode: 451, enhancedCode: '4.3.0', text: 'Try again later', reason: 'database-unavailable' }),
        answerFromMemory: () => {
          throw new TypeError('a cache gave something it should not');
        },
      },
    });
    const stubPort = (await stub.listen(0, '127.0.0.1')).port;
    const client = await PolicyClient.connect(stubPort);
    clients.push(client);
    expect(await client.ask(rcptRequest({ sender: 'a@b.test', recipient: 'c@d.test' }))).toBe('451 4.3.0 Try again later');
    expect(await client.ask(rcptRequest({ sender: 'a@b.test', recipient: 'e@d.test' }))).toBe('451 4.3.0 Try again later');
    await stub.close();
  });
});

describe('stopping', () => {
  it('finishes the request in flight, replies, then closes; new connections are refused', async () => {
    let release: (d: Decision) => void = () => undefined;
    let started: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const slow = createPolicyServer({
      enforcement: {
        checkRecipient: () => {
          started();
          return new Promise<Decision>((resolve) => (release = resolve));
        },
      },
    });
    const slowPort = (await slow.listen(0, '127.0.0.1')).port;
    const client = await PolicyClient.connect(slowPort);
    const idle = await PolicyClient.connect(slowPort);
    const reply = client.ask(rcptRequest({ sender: 'a@b.test', recipient: 'c@d.test' }));
    await inFlight;
    const closing = slow.close();
    await idle.closed;
    await expect(PolicyClient.connect(slowPort)).rejects.toThrow();
    release({ verdict: 'reject', smtpCode: 550, enhancedCode: '5.1.8', text: 'Access denied, bad outbound sender', reason: 'restricted' });
    expect(await reply).toBe('550 5.1.8 Access denied, bad outbound sender');
    await client.closed;
    await closing;
  });
});
