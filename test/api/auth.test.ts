import { statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionTenant } from '../../domain/tenants/provision-tenant.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { runSendguard } from '../helpers/process.ts';
import { systemClock } from '../../domain/clock.ts';
import { ROLE_ASSIGNMENTS_CHANGED } from '../../domain/roles/role-service.ts';
import { policyActor, testServices } from '../helpers/services.ts';

/** A stand-in OpenID Connect issuer: a real HTTP server publishing a JWKS, on loopback. */
async function startIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'issuer-key-1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { privateKey, issuer: `${base}/tenant-guid/v2.0`, jwksUrl: `${base}/discovery/v2.0/keys`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let api: TestApi;
let issuer: Awaited<ReturnType<typeof startIssuer>>;
let tenant: TestTenant;
const AUDIENCE = 'api://sendguard';

beforeAll(async () => {
  issuer = await startIssuer();
  api = await startTestApi({ env: { SENDGUARD_OIDC_ISSUER: issuer.issuer, SENDGUARD_OIDC_JWKS_URL: issuer.jwksUrl, SENDGUARD_OIDC_AUDIENCE: AUDIENCE } });
  tenant = await createTestTenant(api.database);
});
afterAll(async () => {
  await api.stop();
  await issuer.close();
});

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function localClaims(extra: JWTPayload = {}): JWTPayload {
  return { tid: tenant.id, sub: 'oid-admin-1', oid: 'oid-admin-1', name: 'Adele Vance', roles: ['Global Administrator'], iss: api.config.auth.tokenIssuer, aud: api.config.auth.tokenAudience, iat: now(), exp: now() + 600, ...extra };
}

function signLocal(claims: JWTPayload, key: CryptoKey = api.key.privateKey, alg = api.key.alg): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

function signIssuer(claims: JWTPayload): Promise<string> {
  return new SignJWT({ iss: issuer.issuer, aud: AUDIENCE, iat: now(), exp: now() + 600, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'issuer-key-1', typ: 'JWT' }).sign(issuer.privateKey);
}

const UNBLOCK = 'mutation($a: String!) { unblockUser(input: { senderAddress: $a, reason: "r" }) { __typename } }';

describe('authentication failures: 401 with WWW-Authenticate, nothing executed', () => {
  const cases: [string, () => Promise<string | null>, RegExp][] = [
    ['no token', async () => null, /^Bearer realm="sendguard"$/],
    ['an expired token', () => signLocal(localClaims({ iat: now() - 7200, exp: now() - 3600 })), /error="invalid_token", error_description="the token has expired"/],
    ['a wrong issuer', () => signLocal(localClaims({ iss: 'https://evil.example' })), /error="invalid_token".*issuer is not accepted/],
    ['a wrong audience', () => signLocal(localClaims({ aud: 'someone-else' })), /error="invalid_token".*aud claim is not accepted/],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(localClaims())}.`, /error="invalid_token"/],
    [
      'HS256 signed with the public key',
      async () => {
        const pem = await exportSPKI(api.key.publicKey);
        return new SignJWT(localClaims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(pem));
      },
      /error="invalid_token".*signature algorithm is not accepted/,
    ],
    [
      'a forged signature (claims changed after signing)',
      async () => {
        const [header, , signature] = (await signLocal(localClaims({ roles: ['Global Reader'] }))).split('.');
        return `${header}.${b64(localClaims())}.${signature}`;
      },
      /error="invalid_token".*signature is not valid/,
    ],
    ['a key that is not ours', async () => signLocal(localClaims(), (await generateKeyPair('ES256')).privateKey, 'ES256'), /signature is not valid/],
    // 100,000,000 days: no time a Date holds, so tokenExpiresAt and a subscription's end could not be worked out.
    ['an expiry past year 9999', () => signLocal(localClaims({ exp: now() + 100_000_000 * 86_400 })), /error="invalid_token".*exp claim is not valid/],
    ['an external token with an expiry past year 9999', () => signIssuer({ tid: tenant.id, oid: 'oid-x', exp: 253_402_300_800 }), /exp claim is not valid/],
    // PostgreSQL cannot take a NUL: looking up the principal's stored roles, or recording it as the actor, would fail.
    ['a subject with a NUL character', () => signLocal(localClaims({ sub: 'oid-admin-1\u0000', oid: undefined })), /error="invalid_token", error_description="the token's sub claim is not valid"/],
    ['a name with a NUL character', () => signLocal(localClaims({ name: 'Adele\u0000Vance' })), /error="invalid_token", error_description="the token's name claim is not valid"/],
    ['a name with another control character', () => signLocal(localClaims({ name: 'Adele\u001b[2JVance' })), /error="invalid_token", error_description="the token's name claim is not valid"/],
    ['an acting admin with a NUL character', () => signLocal(localClaims({ act: { sub: 'oid-admin-1\u0000', name: 'Adele Vance' } })), /the token's act.sub claim is not valid/],
    ['an external token with a NUL character in its user principal name', () => signIssuer({ tid: tenant.id, oid: 'oid-x', upn: 'adele\u0000@contoso.com' }), /the token's upn claim is not valid/],
    ['a tenant this server does not serve', () => signLocal(localClaims({ tid: 'no-such-tenant' })), /tenant is not served here/],
    ['an external token for the wrong audience', () => signIssuer({ tid: tenant.id, oid: 'oid-x', aud: 'api://other' }), /aud claim is not accepted/],
    [
      'an external token with an algorithm that is not pinned',
      async () =>
        new SignJWT({ iss: issuer.issuer, aud: AUDIENCE, tid: tenant.id, oid: 'oid-x', exp: now() + 600 })
          .setProtectedHeader({ alg: 'ES256', kid: 'issuer-key-1' })
          .sign((await generateKeyPair('ES256')).privateKey),
      /signature algorithm is not accepted/,
    ],
  ];

  it.each(cases)('%s', async (_name, makeToken, challenge) => {
    const address = tenant.address(`victim-${Math.random().toString(36).slice(2, 8)}`);
    await api.running.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const res = await api.gql(await makeToken(), UNBLOCK, { a: address });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(challenge);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.body.data).toBeUndefined();
    expect((await api.running.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const res = await fetch(api.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic YWRtaW46YWRtaW4=' }, body: '{"query":"{ viewer { name } }"}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
  });
});

describe('sendguard token', () => {
  it("prints one line: a token signed with the instance's key (generated with mode 0600), accepted by the running API", async () => {
    const env = { SENDGUARD_DATA_DIR: api.config.dataDir, SENDGUARD_LOG_LEVEL: 'silent', DATABASE_URL: '' };
    const printed = await runSendguard(['token', '--tenant', tenant.id, '--principal', 'oid-cli-1', '--role', 'Security Administrator', '--role', 'global reader', '--name', 'Cli Admin', '--expires', '10m'], env);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(statSync(api.config.auth.signingKeyFile).mode & 0o777).toBe(0o600);
    const res = await api.gql(printed.stdout.trim(), '{ viewer { principalId name roles tokenExpiresAt } }');
    const viewer = (res.body.data as { viewer: { tokenExpiresAt: string } }).viewer;
    expect(viewer).toMatchObject({ principalId: 'oid-cli-1', name: 'Cli Admin', roles: ['SECURITY_ADMINISTRATOR', 'GLOBAL_READER'] });
    expect(new Date(viewer.tokenExpiresAt).getTime() - Date.now()).toBeLessThanOrEqual(600_000);
    const unknownRole = await runSendguard(['token', '--tenant', tenant.id, '--principal', 'p', '--role', 'Janitor'], env);
    expect(unknownRole.code).not.toBe(0);
    expect(unknownRole.stderr).toMatch(/Janitor is not a role Sendguard knows/);
  });

  it('--help gives the default lifetime in the spelling --expires takes', async () => {
    const help = await runSendguard(['token', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--expires <duration> lifetime such as 30m, 1h, 7d (at most 365d) (default: 1h)');
  });

  it('refuses --expires past a year with exit 2, printing no token', async () => {
    const env = { SENDGUARD_DATA_DIR: api.config.dataDir, SENDGUARD_LOG_LEVEL: 'silent', DATABASE_URL: '' };
    const mint = (expires: string) => runSendguard(['token', '--tenant', tenant.id, '--principal', 'oid-cli-2', '--role', 'Security Reader', '--expires', expires], env);
    for (const expires of ['100000000d', '366d', '8785h', '99999999999999999999999']) {
      const refused = await mint(expires);
      expect(refused, expires).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toMatch(/a token lives at most 365d \(a year\)/);
    }
    const yearLong = await mint('365d');
    expect(yearLong.code).toBe(0);
    const res = await api.gql(yearLong.stdout.trim(), '{ viewer { tokenExpiresAt } }');
    const { tokenExpiresAt } = (res.body.data as { viewer: { tokenExpiresAt: string } }).viewer;
    expect(new Date(tokenExpiresAt).getTime() - Date.now()).toBeGreaterThan(364 * 86_400_000);
  });
});

describe('accepted tokens', () => {
  const VIEWER = '{ viewer { principalId name tenantId roles scopes actingThrough } }';

  it('a local token from `sendguard token` carries its roles and their scopes', async () => {
    const res = await api.gql(await api.token({ tenantId: tenant.id, roles: ['Security Administrator'] }), VIEWER);
    expect(res.body.data).toEqual({
      viewer: { principalId: 'oid-admin-1', name: 'Adele Vance', tenantId: tenant.id, roles: ['SECURITY_ADMINISTRATOR'], scopes: ['READ', 'MANAGE'], actingThrough: null },
    });
  });

  it('an external token maps Entra wids, roles and group names to roles', async () => {
    const token = await signIssuer({ tid: tenant.id, oid: 'oid-entra-7', name: 'Lee Gu', wids: ['5d6b6bb7-de71-4623-b4af-96380a352509', '00000000-0000-0000-0000-000000000000'], groups: ['View-Only Organization Management'], roles: ['NotARole'] });
    const res = await api.gql(token, VIEWER);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      viewer: { principalId: 'oid-entra-7', name: 'Lee Gu', tenantId: tenant.id, roles: ['SECURITY_READER', 'VIEW_ONLY_ORGANIZATION_MANAGEMENT'], scopes: ['READ'], actingThrough: null },
    });
  });

  it("an Entra token's lower-case tid finds a tenant whose id was configured in upper case", async () => {
    const id = crypto.randomUUID().toUpperCase();
    const domain = `${id.slice(0, 8).toLowerCase()}.test`;
    await provisionTenant(api.database.db, { id, name: 'Upper-case tenant', acceptedDomains: [domain] }, { warningThresholdPercent: 80 });
    const token = await signIssuer({ tid: id.toLowerCase(), oid: 'oid-entra-9', wids: ['5d6b6bb7-de71-4623-b4af-96380a352509'] });
    const res = await api.gql(token, '{ viewer { tenantId roles tenant { acceptedDomains } } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ viewer: { tenantId: id, roles: ['SECURITY_READER'], tenant: { acceptedDomains: [domain] } } });
  });

  it('a Global Administrator by wids may manage roles', async () => {
    const res = await api.gql(await signIssuer({ tid: tenant.id, oid: 'oid-entra-8', wids: ['62e90394-69f5-4237-9190-012177145e10'] }), VIEWER);
    expect(res.body.data).toMatchObject({ viewer: { roles: ['GLOBAL_ADMINISTRATOR'], scopes: ['READ', 'MANAGE', 'MANAGE_ROLES'] } });
  });

  it("the bot's token is authorised as the admin in `act`, with that admin's stored roles, not the bot's", async () => {
    await api.services.roles.assign({ tenantId: tenant.id, principalId: 'oid-reader-3', role: 'Global Reader', actor: policyActor });
    const token = await api.token({ tenantId: tenant.id, principalId: 'sendguard-bot', roles: ['Global Administrator'], act: { sub: 'oid-reader-3', name: 'Reader Three' } });
    const viewer = await api.gql(token, VIEWER);
    expect(viewer.body.data).toEqual({
      viewer: { principalId: 'oid-reader-3', name: 'Reader Three', tenantId: tenant.id, roles: ['GLOBAL_READER'], scopes: ['READ'], actingThrough: 'sendguard-bot' },
    });
    const unblock = await api.gql(token, UNBLOCK, { a: tenant.address('anyone') });
    expect(errorCodes(unblock)).toEqual(['FORBIDDEN']);
  });

  it('a stored role given or taken away applies to the next request, though roles are reused between requests', async () => {
    const token = await api.token({ tenantId: tenant.id, principalId: 'oid-reader-5', roles: [] });
    const roles = async () => ((await api.gql<{ viewer: { roles: string[] } }>(token, VIEWER)).body.data?.viewer.roles ?? null);
    expect(await roles()).toEqual([]);
    await api.services.roles.assign({ tenantId: tenant.id, principalId: 'oid-reader-5', role: 'Global Reader', actor: policyActor });
    expect(await roles()).toEqual(['GLOBAL_READER']);
    await api.services.roles.remove({ tenantId: tenant.id, principalId: 'oid-reader-5', role: 'Global Reader', actor: policyActor });
    expect(await roles()).toEqual([]);
  });

  it('a stored role given or taken away by another process applies as soon as its event arrives, not when reused roles expire', async () => {
    const other = testServices(api.database, systemClock);
    await other.events.start();
    try {
      const token = await api.token({ tenantId: tenant.id, principalId: 'oid-reader-6', roles: [] });
      const roles = async () => ((await api.gql<{ viewer: { roles: string[] } }>(token, VIEWER)).body.data?.viewer.roles ?? null);
      const roleEvent = () => new Promise<void>((resolve) => {
        const stop = api.services.events.subscribe((e) => {
          if (e.type === ROLE_ASSIGNMENTS_CHANGED && e.entityKey === 'oid-reader-6') {
            stop();
            resolve();
          }
        });
      });
      expect(await roles()).toEqual([]); // reused for the next 5 s unless an event says otherwise
      const assigned = roleEvent();
      await other.roles.assign({ tenantId: tenant.id, principalId: 'oid-reader-6', role: 'Global Reader', actor: policyActor });
      await assigned;
      expect(await roles()).toEqual(['GLOBAL_READER']);
      const removed = roleEvent();
      await other.roles.remove({ tenantId: tenant.id, principalId: 'oid-reader-6', role: 'Global Reader', actor: policyActor });
      await removed;
      expect(await roles()).toEqual([]);
    } finally {
      await other.events.stop();
    }
  });

  it('roles an `act` token claims for the admin count for nothing: with no stored assignment it may neither unblock nor read', async () => {
    const address = tenant.address('act-claims');
    await api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
    const token = await api.token({ tenantId: tenant.id, principalId: 'sendguard-bot', roles: [], act: { sub: 'oid-nobody-4', name: 'No Body', roles: ['Security Administrator'] } });
    expect((await api.gql(token, VIEWER)).body.data).toEqual({
      viewer: { principalId: 'oid-nobody-4', name: 'No Body', tenantId: tenant.id, roles: [], scopes: [], actingThrough: 'sendguard-bot' },
    });
    const unblock = await api.gql(token, UNBLOCK, { a: address });
    expect(errorCodes(unblock)).toEqual(['FORBIDDEN']);
    expect(unblock.body.data).toBeNull();
    const list = await api.gql(token, '{ restrictedUsers(first: 10) { totalCount edges { node { senderAddress } } } }');
    expect(errorCodes(list)).toEqual(['FORBIDDEN']);
    expect(list.body.data).toBeNull();
    const one = await api.gql(token, 'query($a: String!) { restrictedUser(senderAddress: $a) { status } }', { a: address });
    expect(errorCodes(one)).toEqual(['FORBIDDEN']);
    expect((await api.running.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
  });

  it('an external token may not act for someone else', async () => {
    const token = await signIssuer({ tid: tenant.id, oid: 'oid-entra-9', roles: ['Global Reader'], act: { sub: 'oid-admin-1', roles: ['Global Administrator'] } });
    const res = await api.gql(token, VIEWER);
    expect(res.body.data).toMatchObject({ viewer: { principalId: 'oid-entra-9', roles: ['GLOBAL_READER'], actingThrough: null } });
  });
});
