import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { tenantEventStream } from '../../api/event-stream.ts';
import { untilExpiry } from '../../api/token-expiry.ts';
import { createTestTenant, needsPostgres, onPostgres, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { captureLogs } from '../helpers/logs.ts';
import { startServerProcess, type ServerProcess } from '../helpers/process.ts';
import { admin, policyActor } from '../helpers/services.ts';
import { openSse, openWs } from '../helpers/subscriptions.ts';

const EVENTS = `subscription($filter: RestrictionEventFilter, $after: ID) {
  restrictionEvents(filter: $filter, afterEventId: $after) {
    __typename
    ... on UserRestricted { eventId occurredAt senderAddress actorName restrictedUser { status reasonCode } }
    ... on UserReleased { eventId senderAddress actorName reason restrictedUser { status } }
    ... on RestrictionExpired { eventId senderAddress connectorId }
    ... on ConnectorRestricted { eventId connectorId }
    ... on ConnectorReleased { eventId connectorId }
  }
}`;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api.stop());

const restrict = (tenant: TestTenant, local: string) =>
  api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
const release = (tenant: TestTenant, local: string) =>
  api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reason: 'reset', acknowledgedRecommendations: [], actor: admin });
const brief = (e: Record<string, unknown>) => `${String(e.__typename)}:${String(e.senderAddress ?? e.connectorId)}`;

describe('restrictionEvents over SSE', () => {
  it('delivers live events of the tenant with the entity, the time and an SSE id', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Security Reader'] });
    const stream = await openSse(api.graphqlUrl, token, EVENTS);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await restrict(tenant, 'alice');
    await release(tenant, 'alice');
    const first = await stream.next();
    expect(first?.data.data?.restrictionEvents).toMatchObject({
      __typename: 'UserRestricted',
      senderAddress: tenant.address('alice'),
      actorName: 'Sendguard policy',
      restrictedUser: { reasonCode: 'SUSPECTED_COMPROMISE' },
    });
    expect(first?.id).toBe(first?.data.data?.restrictionEvents?.eventId);
    expect(await stream.nextEvent()).toMatchObject({ __typename: 'UserReleased', senderAddress: tenant.address('alice'), actorName: 'Adele Vance', reason: 'reset', restrictedUser: { status: 'RELEASED' } });
    stream.close();
  });

  it('never delivers another tenant\'s events, and filters by type and sender', async () => {
    const a = await createTestTenant(api.database);
    const b = await createTestTenant(api.database);
    const streamB = await openSse(api.graphqlUrl, await api.token({ tenantId: b.id }), EVENTS);
    const filtered = await openSse(api.graphqlUrl, await api.token({ tenantId: a.id }), EVENTS, { variables: { filter: { types: ['USER_RELEASED'], senderAddress: a.address('Carol') } } });
    await restrict(a, 'bob');
    await restrict(a, 'carol');
    await release(a, 'bob');
    await release(a, 'carol');
    await restrict(b, 'dave');
    expect(brief(await streamB.nextEvent())).toBe(`UserRestricted:${b.address('dave')}`);
    expect(brief(await filtered.nextEvent())).toBe(`UserReleased:${a.address('carol')}`);
    await restrict(a, 'erin');
    await release(a, 'erin');
    await restrict(b, 'frank');
    expect(brief(await streamB.nextEvent())).toBe(`UserRestricted:${b.address('frank')}`);
    streamB.close();
    filtered.close();
  });

  it('resumes after a reconnect with Last-Event-ID: everything missed, in order, once, then live', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    const before = await openSse(api.graphqlUrl, token, EVENTS);
    await restrict(tenant, 'u1');
    const seen = await before.next();
    before.close();
    await restrict(tenant, 'u2');
    await release(tenant, 'u1');
    await restrict(tenant, 'u3');
    const resumed = await openSse(api.graphqlUrl, token, EVENTS, { lastEventId: seen?.id });
    const missed = [await resumed.nextEvent(), await resumed.nextEvent(), await resumed.nextEvent()];
    expect(missed.map(brief)).toEqual([`UserRestricted:${tenant.address('u2')}`, `UserReleased:${tenant.address('u1')}`, `UserRestricted:${tenant.address('u3')}`]);
    const ids = missed.map((e) => Number(e.eventId));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(ids[0]).toBeGreaterThan(Number(seen?.id));
    await restrict(tenant, 'u4');
    expect(brief(await resumed.nextEvent())).toBe(`UserRestricted:${tenant.address('u4')}`);
    resumed.close();
  });

  it('resumes after Last-Event-ID when the reconnect repeats the first request\'s afterEventId, as SSE clients do: nothing twice', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrict(tenant, 'w0');
    const replay = await openSse(api.graphqlUrl, token, EVENTS, { variables: { after: '0', filter: { senderAddress: tenant.address('w0') } } });
    const variables = { after: (await replay.nextEvent()).eventId };
    replay.close();
    const first = await openSse(api.graphqlUrl, token, EVENTS, { variables });
    await restrict(tenant, 'w1');
    await restrict(tenant, 'w2');
    await first.next();
    const seen = await first.next();
    first.close();
    await restrict(tenant, 'w3');
    // The same request again, with the id of the last event seen, as an SSE client reconnects.
    const resumed = await openSse(api.graphqlUrl, token, EVENTS, { variables, lastEventId: seen?.id });
    expect(brief(await resumed.nextEvent())).toBe(`UserRestricted:${tenant.address('w3')}`);
    resumed.close();
  });

  it('is refused without a token (401) and to a caller without a role (FORBIDDEN); a bad resume point is a clear error', async () => {
    const tenant = await createTestTenant(api.database);
    const res = await fetch(api.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: EVENTS }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="sendguard"');
    const noRole = await openSse(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: [] }), EVENTS);
    expect((await noRole.next())?.data.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const bad = await openSse(api.graphqlUrl, await api.token({ tenantId: tenant.id }), EVENTS, { lastEventId: 'yesterday' });
    expect((await bad.next())?.data.errors?.[0]).toMatchObject({ message: 'afterEventId (or Last-Event-ID) must be an eventId this API sent', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('refuses a sender to follow that is no address or user name with BAD_USER_INPUT, over SSE and WebSocket; an empty one follows every sender', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    const refused = expect.objectContaining({ message: 'senderAddress must be 1 to 320 characters without spaces or control characters', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'senderAddress' }) });
    const sse = await openSse(api.graphqlUrl, token, EVENTS, { variables: { filter: { senderAddress: 'two words' } } });
    expect((await sse.next())?.data.errors).toEqual([refused]);
    sse.close();
    const client = openWs(api.url, token);
    const result = await client.iterate({ query: EVENTS, variables: { filter: { senderAddress: `bell\u0007@${tenant.domain}` } } }).next();
    expect((result.value as { errors?: unknown[] }).errors).toEqual([refused]);
    await client.dispose();
    const every = await openSse(api.graphqlUrl, token, EVENTS, { variables: { filter: { senderAddress: '' } } });
    await restrict(tenant, 'anyone');
    expect(brief(await every.nextEvent())).toBe(`UserRestricted:${tenant.address('anyone')}`);
    every.close();
  });

  it('refuses a connector to follow that can be no connector id with BAD_USER_INPUT, as a sender is refused', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    const sse = await openSse(api.graphqlUrl, token, EVENTS, { variables: { filter: { connectorId: 'two words' } } });
    expect((await sse.next())?.data.errors).toEqual([
      expect.objectContaining({ message: 'connectorId must be 1 to 320 characters without spaces or control characters', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'connectorId' }) }),
    ]);
    sse.close();
  });

  it('refuses a resume point past the newest event, as an argument or as Last-Event-ID, instead of silently skipping what comes', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrict(tenant, 'newest');
    const replay = await openSse(api.graphqlUrl, token, EVENTS, { variables: { after: '0', filter: { senderAddress: tenant.address('newest') } } });
    const newest = Number((await replay.nextEvent()).eventId);
    replay.close();
    const notSent = { message: 'afterEventId (or Last-Event-ID) must be an eventId this API sent', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) };
    for (const options of [{ variables: { after: String(newest + 1_000_000) } }, { lastEventId: '2147483648' }]) {
      const stream = await openSse(api.graphqlUrl, token, EVENTS, options);
      expect((await stream.next())?.data).toEqual({ errors: [expect.objectContaining(notSent)] });
      stream.close();
    }
    // The newest id itself is a resume point: what comes after it arrives.
    const resumed = await openSse(api.graphqlUrl, token, EVENTS, { variables: { after: String(newest) } });
    await restrict(tenant, 'after-newest');
    expect(brief(await resumed.nextEvent())).toBe(`UserRestricted:${tenant.address('after-newest')}`);
    resumed.close();
  });
});

describe('restrictionEvents over graphql-ws', () => {
  it('authenticates with connectionParams, replays from afterEventId and then delivers live events', async () => {
    const tenant = await createTestTenant(api.database);
    await restrict(tenant, 'early');
    const client = openWs(api.url, await api.token({ tenantId: tenant.id, roles: ['Global Reader'] }));
    const events = client.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    const next = async () => (await events.next()).value?.data?.restrictionEvents ?? {};
    const replayed = await next();
    expect(brief(replayed)).toBe(`UserRestricted:${tenant.address('early')}`);
    await release(tenant, 'early');
    expect(brief(await next())).toBe(`UserReleased:${tenant.address('early')}`);
    await events.return?.();
    await client.dispose();
  });

  it('closes a connection without a valid token (4401) and refuses a caller without a role', async () => {
    const tenant = await createTestTenant(api.database);
    const closed = new Promise<[number, string]>((resolve) => {
      const client = openWs(api.url, 'not-a-token', { onClose: (code, reason) => resolve([code, reason]) });
      client.subscribe({ query: EVENTS }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect(await closed).toEqual([4401, 'Unauthorized: the token is not a JWT']);
    const client = openWs(api.url, await api.token({ tenantId: tenant.id, roles: [] }));
    const result = await client.iterate({ query: EVENTS }).next();
    expect((result.value as { errors?: { extensions?: { code?: string } }[] }).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    await client.dispose();
  });

  it('refuses an afterEventId past the newest event with BAD_USER_INPUT, for that operation only', async () => {
    const tenant = await createTestTenant(api.database);
    const client = openWs(api.url, await api.token({ tenantId: tenant.id }));
    const result = await client.iterate({ query: EVENTS, variables: { after: '1000000000' } }).next();
    expect((result.value as { errors?: unknown[] }).errors).toEqual([
      expect.objectContaining({ message: 'afterEventId (or Last-Event-ID) must be an eventId this API sent', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
    await restrict(tenant, 'still-served');
    const events = client.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    expect(brief((await events.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('still-served')}`);
    await events.return?.();
    await client.dispose();
  });

  it('authorises each operation with the roles stored for its caller now, not those it had when the connection opened', async () => {
    const tenant = await createTestTenant(api.database);
    const role = { tenantId: tenant.id, principalId: 'oid-ws-admin', role: 'Security Administrator', actor: admin };
    await api.services.roles.assign(role);
    let connections = 0;
    const client = openWs(api.url, await api.token({ tenantId: tenant.id, principalId: 'oid-ws-admin', roles: [] }), { onConnected: () => connections++ });
    // A subscription keeps the one connection open throughout.
    const events = client.iterate({ query: EVENTS });
    const pending = events.next();
    const run = async (query: string) => (await client.iterate<Record<string, unknown>>({ query }).next()).value as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    expect((await run('{ viewer { scopes } }')).data).toEqual({ viewer: { scopes: ['READ', 'MANAGE'] } });
    await api.services.roles.remove(role);
    expect((await run('{ viewer { scopes } }')).data).toEqual({ viewer: { scopes: [] } });
    const unblock = await run(`mutation { unblockUser(input: { senderAddress: "${tenant.address('x')}", reason: "r" }) { __typename } }`);
    expect(unblock.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(connections).toBe(1);
    await events.return?.();
    await pending;
    await client.dispose();
  });

  it('closes a connection whose message is larger than a request body may be (1009), before reading any of it as GraphQL', async () => {
    const socket = new WebSocket(`${api.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(api.config.graphql.maxBodyBytes) } }));
    expect(await closed).toBe(1009);
  });

  it('logs a message over the limit through its logger, once a connection, and writes nothing to the console', async () => {
    const logs = captureLogs('info');
    const own = await startTestApi({ database: api.database, logger: logs.logger });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const socket = new WebSocket(`${own.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(own.config.graphql.maxBodyBytes) } }));
      expect(await closed).toBe(1009);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(consoleError.mock.calls).toEqual([]);
      expect(logs.entries().filter((e) => e.msg === 'websocket connection refused')).toEqual([
        expect.objectContaining({ level: 30, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', reason: 'Max payload size exceeded' }),
      ]);
    } finally {
      consoleError.mockRestore();
      await own.stop();
    }
  });

  it.each([
    ['nested too deeply', `{ restrictedUsers { edges { node { ${'policy { rule { '.repeat(4)}policy { name }${' } }'.repeat(4)} } } } }`, 'The query is nested too deeply.'],
    ['with too many aliases', `{ ${Array.from({ length: 16 }, (_, i) => `v${i}: viewer { name }`).join(' ')} }`, 'The query uses too many aliases.'],
    ['with too many directives', `{ viewer { name ${'@include(if: true) '.repeat(21)} } }`, 'The query uses too many directives.'],
    ['too long', `query($v: ${'['.repeat(1100)}String${']'.repeat(1100)}) { viewer { name } }`, 'The query is too long.'],
  ])('refuses a query %s with a coded error for that operation only; the connection and its subscriptions stay', async (_name, query, message) => {
    const tenant = await createTestTenant(api.database);
    let closedWith: number | undefined;
    const client = openWs(api.url, await api.token({ tenantId: tenant.id }), { onClose: (code) => (closedWith = code) });
    const events = client.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    await restrict(tenant, 'first');
    expect(brief((await events.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('first')}`);
    const refusal = await new Promise<unknown>((resolve) =>
      client.subscribe({ query }, { next: resolve, error: (err) => resolve(Array.isArray(err) ? err : `closed: ${String((err as { code?: unknown }).code)}`), complete: () => resolve('completed') }),
    );
    expect(refusal).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) })]);
    await restrict(tenant, 'second');
    expect(brief((await events.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('second')}`);
    expect(closedWith).toBeUndefined();
    await events.return?.();
    await client.dispose();
  });
});

describe('subscriptions that end', () => {
  const streams = (tenant: TestTenant, server: AbortSignal) => (request?: AbortSignal) =>
    tenantEventStream({ database: api.services.database, bus: api.services.events }, { tenantId: tenant.id, afterId: undefined, wanted: () => true, signals: [server, request] });

  it('leave nothing on the server\'s shutdown signal, whether the client left or its request was aborted', async () => {
    const tenant = await createTestTenant(api.database);
    const server = new AbortController();
    const open = streams(tenant, server.signal);
    for (let k = 0; k < 12; k++) {
      const stream = open();
      const waiting = stream.next();
      await stream.return?.();
      expect(await waiting).toMatchObject({ done: true });
    }
    const requests = Array.from({ length: 12 }, () => new AbortController());
    const waiting = requests.map((request) => open(request.signal).next());
    for (const request of requests) request.abort();
    expect((await Promise.all(waiting)).map((r) => r.done)).toEqual(requests.map(() => true));
    // Before, each ended subscription stayed referenced by the server's signal until it stopped.
    expect(getEventListeners(server.signal, 'abort')).toHaveLength(0);
  });

  it('one opened as the server stops ends at once', async () => {
    const tenant = await createTestTenant(api.database);
    const server = new AbortController();
    server.abort();
    expect(await streams(tenant, server.signal)().next()).toMatchObject({ done: true });
  });

  it('16 subscribers at once, and 16 more after them, log no listener warning', async () => {
    // A server of its own: Node warns once per signal, and this file's server has had many subscribers.
    const own = await startTestApi({ database: api.database });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const tenant = await createTestTenant(api.database);
      const token = await own.token({ tenantId: tenant.id });
      for (const round of ['a', 'b']) {
        const open = await Promise.all(Array.from({ length: 16 }, () => openSse(own.graphqlUrl, token, EVENTS)));
        await restrict(tenant, `many-${round}`);
        for (const stream of open) expect(brief(await stream.nextEvent())).toBe(`UserRestricted:${tenant.address(`many-${round}`)}`);
        for (const stream of open) stream.close();
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await own.stop();
    }
  });
});

describe('a subscription ends when the token that opened it expires', () => {
  const unauthenticated = { message: 'Unauthorized: the token has expired; subscribe again with a fresh one', extensions: { code: 'UNAUTHENTICATED' } };

  it('over SSE: live events until then, then an error event and the end of the stream', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Security Reader'], expiresInSeconds: 3 });
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    const stream = await openSse(api.graphqlUrl, token, EVENTS);
    await restrict(tenant, 'before-expiry');
    expect(brief(await stream.nextEvent())).toBe(`UserRestricted:${tenant.address('before-expiry')}`);
    const last = await stream.next();
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.exp * 1000);
    expect(last?.event).toBe('next');
    expect(last?.data).toEqual({ errors: [unauthenticated] });
    await restrict(tenant, 'after-expiry');
    expect(await stream.next()).toBeUndefined();
  });

  it('over graphql-ws: the connection closes with 4401', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Global Reader'], expiresInSeconds: 3 });
    let onClose: (code: number, reason: string) => void = () => {};
    const closed = new Promise<[number, string]>((resolve) => (onClose = (code, reason) => resolve([code, reason])));
    const client = openWs(api.url, token, { onClose });
    await restrict(tenant, 'ws-before-expiry');
    const events = client.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    expect(brief((await events.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('ws-before-expiry')}`);
    expect(await closed).toEqual([4401, 'Unauthorized: the token has expired; reconnect with a fresh one']);
    await client.dispose();
  });

  it('keeps nothing per event delivered while the token lasts', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    async function* endless() {
      for (let n = 0; ; n++) yield { data: { n } };
    }
    const results = untilExpiry(endless(), new Date(Date.now() + 3_600_000));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let n = 0; n < 100_000; n++) expect((await results.next()).done).toBe(false);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    await results.return?.();
    // Before, each result left a reaction on the expiry's promise until expiry: about 40 MB here.
    expect(grown).toBeLessThan(8_000_000);
  });
});

describe('a subscription ends when its caller loses the roles that allowed it', () => {
  const forbidden = {
    message: 'Forbidden: Subscription.restrictionEvents needs the read scope, which your roles no longer grant; subscribe again once they do',
    extensions: { code: 'FORBIDDEN' },
  };

  it('over SSE: events while the stored role lasts, then a FORBIDDEN error event and the end of the stream', async () => {
    const tenant = await createTestTenant(api.database);
    const role = { tenantId: tenant.id, principalId: 'oid-sse-revoked', role: 'Security Administrator', actor: admin };
    await api.services.roles.assign(role);
    const stream = await openSse(api.graphqlUrl, await api.token({ tenantId: tenant.id, principalId: 'oid-sse-revoked', roles: [] }), EVENTS);
    await restrict(tenant, 'while-admin');
    expect(brief(await stream.nextEvent())).toBe(`UserRestricted:${tenant.address('while-admin')}`);
    await api.services.roles.remove(role);
    await restrict(tenant, 'after-removal');
    expect((await stream.next())?.data).toEqual({ errors: [forbidden] });
    await restrict(tenant, 'later');
    expect(await stream.next()).toBeUndefined();
  });

  it('over graphql-ws: the subscription gets FORBIDDEN and completes; other operations still run with the roles left', async () => {
    const tenant = await createTestTenant(api.database);
    const role = { tenantId: tenant.id, principalId: 'oid-ws-revoked', role: 'Global Reader', actor: admin };
    await api.services.roles.assign(role);
    const client = openWs(api.url, await api.token({ tenantId: tenant.id, principalId: 'oid-ws-revoked', roles: [] }));
    const events = client.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    await restrict(tenant, 'ws-while-reader');
    expect(brief((await events.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('ws-while-reader')}`);
    await api.services.roles.remove(role);
    await restrict(tenant, 'ws-after-removal');
    expect((await events.next()).value).toEqual({ errors: [forbidden] });
    expect((await events.next()).done).toBe(true);
    const viewer = (await client.iterate<{ viewer: unknown }>({ query: '{ viewer { scopes } }' }).next()).value;
    expect(viewer).toEqual({ data: { viewer: { scopes: [] } } });
    await client.dispose();
  });

  it('keeps delivering to a caller whose token grants the role, whatever is stored', async () => {
    const tenant = await createTestTenant(api.database);
    const role = { tenantId: tenant.id, principalId: 'oid-claims-reader', role: 'Security Administrator', actor: admin };
    await api.services.roles.assign(role);
    const stream = await openSse(api.graphqlUrl, await api.token({ tenantId: tenant.id, principalId: 'oid-claims-reader', roles: ['Security Reader'] }), EVENTS);
    await api.services.roles.remove(role);
    await restrict(tenant, 'claims-still');
    expect(brief(await stream.nextEvent())).toBe(`UserRestricted:${tenant.address('claims-still')}`);
    stream.close();
  });
});

describe.skipIf(!onPostgres)(`across processes (${needsPostgres})`, () => {
  let child: ServerProcess;
  beforeAll(async () => {
    child = await startServerProcess(['--only', 'api'], {
      DATABASE_URL: api.database.url ?? '',
      SENDGUARD_DATA_DIR: api.config.dataDir,
      SENDGUARD_HTTP_PORT: '0',
      SENDGUARD_HOST: '127.0.0.1',
      SENDGUARD_LOG_LEVEL: 'warn',
      SENDGUARD_EVENT_POLL_MS: '100',
      NODE_ENV: 'test',
    });
  });
  afterAll(async () => child?.stop());

  it('an event raised in this process reaches subscribers of another server process over SSE and graphql-ws', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    const sse = await openSse(`${child.urls.http}/graphql`, token, EVENTS);
    const ws = openWs(child.urls.http ?? '', token);
    const wsEvents = ws.iterate<{ restrictionEvents: Record<string, unknown> }>({ query: EVENTS, variables: { after: '0' } });
    await restrict(tenant, 'xproc');
    expect(brief(await sse.nextEvent())).toBe(`UserRestricted:${tenant.address('xproc')}`);
    expect(brief((await wsEvents.next()).value?.data?.restrictionEvents ?? {})).toBe(`UserRestricted:${tenant.address('xproc')}`);
    sse.close();
    await wsEvents.return?.();
    await ws.dispose();
  });

  it('a client of one process resumes on another with its last event id, missing nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    const onChild = await openSse(`${child.urls.http}/graphql`, token, EVENTS);
    await restrict(tenant, 'r1');
    const seen = await onChild.next();
    onChild.close();
    await restrict(tenant, 'r2');
    await release(tenant, 'r1');
    const onParent = await openSse(api.graphqlUrl, token, EVENTS, { lastEventId: seen?.id });
    expect([brief(await onParent.nextEvent()), brief(await onParent.nextEvent())]).toEqual([`UserRestricted:${tenant.address('r2')}`, `UserReleased:${tenant.address('r1')}`]);
    onParent.close();
  });
});
