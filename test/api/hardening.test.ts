import http from 'node:http';
import net from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, createTestTenant, type TestTenant } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { startBareGraphQL, startTestApi, type TestApi } from '../helpers/graphql.ts';

let api: TestApi;
let tenant: TestTenant;
let token: string;
const MAX_BODY = 4096;

beforeAll(async () => {
  api = await startTestApi({ env: { SENDGUARD_GRAPHQL_MAX_BODY_BYTES: String(MAX_BODY) } });
  tenant = await createTestTenant(api.database);
  token = await api.token({ tenantId: tenant.id });
});
afterAll(async () => api.stop());

// Everything an admin's detail view shows: within every limit, even for a full page of 100.
const DETAIL = 'id senderAddress reason reasonCode exceededLimit limitValue internalRecipientCount externalRecipientCount policyName restrictedAt changedAt expiresAt temporary status recommendations { kind title description required learnMoreUrl } releases { releasedAt releasedBy reason acknowledgedRecommendations } history { id status restrictedAt releasedAt } blockedSenderAddress { SenderAddress Reason CreatedDatetime ChangedDatetime TemporaryBlock } policy { name rule { name priority } }';
const nest = (levels: number, inner: string) => `${'history { '.repeat(levels)}${inner}${' }'.repeat(levels)}`;

async function refused(query: string) {
  const res = await api.gql(token, query);
  return { status: res.status, errors: res.body.errors ?? [], messages: (res.body.errors ?? []).map((e) => e.message), data: res.body.data };
}

describe('query limits (graphql-armor and the query cost), without revealing the limits', () => {
  it('accepts an ordinary detailed query', async () => {
    const res = await api.gql(token, `{ viewer { name tenant { id } } restrictedUsers(first: 100) { totalCount pageInfo { endCursor } edges { cursor node { ${DETAIL} } } } }`);
    expect(res.body.errors).toBeUndefined();
  });

  it.each([
    ['nested too deeply', `{ restrictedUsers { edges { node { ${nest(8, 'id')} } } } }`, 'The query is nested too deeply.', 'QUERY_TOO_COMPLEX'],
    ['too expensive', `{ restrictedUsers(first: 100) { edges { node { ${DETAIL} history { releases { reason } } } } } }`, 'The query is too expensive: ask for fewer items (first) or fewer nested lists.', 'QUERY_TOO_EXPENSIVE'],
    ['too many aliases', `{ ${Array.from({ length: 16 }, (_, i) => `v${i}: viewer { name }`).join(' ')} }`, 'The query uses too many aliases.', 'QUERY_TOO_COMPLEX'],
    ['too many directives', `{ viewer { name ${'@include(if: true) '.repeat(21)} } }`, 'The query uses too many directives.', 'QUERY_TOO_COMPLEX'],
    ['too long', `query($v: ${'['.repeat(1100)}String${']'.repeat(1100)}) { viewer { name } }`, 'The query is too long.', 'QUERY_TOO_COMPLEX'],
  ])('refuses a query %s with a clear, coded error and executes nothing', async (_name, query, message, code) => {
    const res = await refused(query);
    expect(res.status).toBe(200);
    expect(res.errors).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code }) })]);
    expect(res.data).toBeUndefined();
    expect(res.messages.join(' ')).not.toMatch(/\d/);
  });

  it('suggests no field names to someone probing the schema', async () => {
    const res = await refused('{ viewr { name } restrictedUser(senderAddres: "a@b.c") { id } }');
    expect(res.status).toBe(200);
    expect(res.messages.length).toBeGreaterThan(0);
    expect(res.messages.join(' ')).not.toMatch(/Did you mean/);
  });
});

describe('HTTP protections', () => {
  it('refuses a body over the configured size with 413, with or without Content-Length', async () => {
    const big = JSON.stringify({ query: `{ viewer { name } }`, variables: { pad: 'x'.repeat(MAX_BODY) } });
    const declared = await fetch(api.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.text()).toMatch(/Request body too large/);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(api.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 1000) req.write(big.slice(i, i + 1000));
      req.end();
    });
    expect(chunked.status).toBe(413);
  });

  it('reads no more body than a request declares: a longer body cannot get past the limit by declaring less', async () => {
    const url = new URL(api.graphqlUrl);
    const body = JSON.stringify({ query: '{ viewer { name } }', variables: { pad: 'x'.repeat(MAX_BODY) } });
    const head = (length: number | string) =>
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    const exchange = (request: string) => new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.end(request));
      let reply = '';
      socket.on('data', (d: Buffer) => (reply += d.toString()));
      socket.on('close', () => resolve(reply));
      socket.on('error', reject);
    });
    // Declared 40 bytes of a 4 KB body: the query is the first 40 bytes alone, which is not JSON.
    const short = await exchange(head(40) + body);
    expect(short).toMatch(/^HTTP\/1\.1 400 /);
    expect(short).not.toMatch(/"viewer"/);
    // The same body declared as it is: refused on the header.
    expect(await exchange(head(Buffer.byteLength(body)) + body)).toMatch(/^HTTP\/1\.1 413 [^]*Request body too large/);
    // A length that is not a number: refused before anything is read.
    expect(await exchange(head('12abc') + body)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('refuses batched operations', async () => {
    const res = await fetch(api.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ query: '{ viewer { name } }' }, { query: '{ viewer { name } }' }]) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Batching is not supported/);
  });

  it('refuses requests a browser could send cross-site without a preflight (CSRF)', async () => {
    const simple = await fetch(api.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ viewer { name } }' }) });
    expect(simple.status).toBe(403);
    expect(await simple.text()).toMatch(/Required CSRF header\(s\) not present/);
    const get = `${api.graphqlUrl}?query=${encodeURIComponent('{ viewer { name } }')}`;
    expect((await fetch(get, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    const withHeader = await fetch(get, { headers: { authorization: `Bearer ${token}`, 'x-graphql-csrf': '1' } });
    expect(await withHeader.json()).toEqual({ data: { viewer: { name: 'Adele Vance' } } });
  });

  it('answers mutations sent with GET with 405', async () => {
    const get = `${api.graphqlUrl}?query=${encodeURIComponent('mutation { setAuditLogEnabled(input: { enabled: false }) { id } }')}`;
    const res = await fetch(get, { headers: { authorization: `Bearer ${token}`, 'x-graphql-csrf': '1' } });
    expect(res.status).toBe(405);
  });

  it('allows introspection only to authenticated callers', async () => {
    const query = '{ __schema { queryType { name } } }';
    expect((await api.gql(null, query)).status).toBe(401);
    expect((await api.gql(token, query)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('error masking and GraphiQL', () => {
  it('masks unexpected failures: no SQL, stack or internals reach the client', async () => {
    const database = await createTestDatabase();
    const bare = await startBareGraphQL(database);
    try {
      const own = await createTestTenant(database);
      const ownToken = await bare.token({ tenantId: own.id });
      // A real internal fault: the table the query reads is gone.
      await database.rows(sql`alter table restrictions rename to restrictions_gone`);
      const res = await bare.gql(ownToken, '{ restrictedUsers { totalCount } }');
      expect(res.body).toEqual({ data: null, errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['restrictedUsers'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      // The database gone altogether: even authentication cannot run (for a caller whose roles are
      // not cached from an earlier request).
      await database.close();
      const down = await bare.gql(await bare.token({ tenantId: own.id, principalId: 'oid-admin-2' }), '{ viewer { name } }');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ errors: [{ message: 'The service is unavailable; try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    } finally {
      await bare.stop();
    }
  });

  const browser = { accept: 'text/html,application/xhtml+xml' };

  it('serves no GraphiQL page by default, even in development', async () => {
    const dev = await startTestApi({ env: { NODE_ENV: 'development' } });
    try {
      const devTenant = await createTestTenant(dev.database);
      for (const headers of [browser, { ...browser, authorization: `Bearer ${await dev.token({ tenantId: devTenant.id })}`, 'x-graphql-csrf': '1' }]) {
        const res = await fetch(dev.graphqlUrl, { headers });
        expect(res.headers.get('content-type') ?? '').not.toMatch(/html/);
        expect(await res.text()).not.toMatch(/<html|graphiql/i);
      }
    } finally {
      await dev.stop();
    }
  });

  it('with SENDGUARD_GRAPHIQL=true serves GraphiQL to browsers from the bundle, loading nothing from a CDN', async () => {
    const dev = await startTestApi({ env: { NODE_ENV: 'development', SENDGUARD_GRAPHIQL: 'true' } });
    try {
      const res = await fetch(dev.graphqlUrl, { headers: browser });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('<title>Sendguard GraphiQL</title>');
      expect(html).toContain('renderYogaGraphiQL');
      expect(html).not.toMatch(/unpkg|jsdelivr|cdnjs|esm\.sh|skypack/i);
      expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
      expect(html).not.toMatch(/<link[^>]*\bhref\s*=\s*["']?(https?:)?\/\//i);
      expect(html).not.toMatch(/https?:\/\/[^\s"'`)]+\.m?js\b/i);
      // The page is public; what it sends is not.
      const query = await fetch(`${dev.graphqlUrl}?query=${encodeURIComponent('{ viewer { name } }')}`, { headers: { accept: 'application/json', 'x-graphql-csrf': '1' } });
      expect(query.status).toBe(401);
    } finally {
      await dev.stop();
    }
  });

  it('refuses SENDGUARD_GRAPHIQL=true in production, naming the variable', () => {
    expect(() => testConfig({ NODE_ENV: 'production', SENDGUARD_GRAPHIQL: 'true' })).toThrow('invalid configuration: SENDGUARD_GRAPHIQL must be false when NODE_ENV=production');
  });
});
