import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey } from '../../api/auth/signing-key.ts';
import { AuthenticationError, createTokenVerifier } from '../../api/auth/verify-token.ts';
import { testDir } from '../helpers/config.ts';

// Key rotation at the OpenID Connect issuer, against a real HTTP server publishing the JWKS.

let server: http.Server;
let published: JWK[] = [];
let jwksUrl = '';
const ISSUER = 'https://login.example.test/tenant-guid/v2.0';
const AUDIENCE = 'api://sendguard';

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function issuerKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = () => new SignJWT({ tid: 'contoso', sub: 'oid-1', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
  return { jwk, sign };
}

async function refusal(verify: (token: string) => Promise<unknown>, token: string): Promise<string> {
  try {
    await verify(token);
    return 'accepted';
  } catch (err) {
    return err instanceof AuthenticationError ? err.message : `other: ${(err as Error).message}`;
  }
}

describe('the token verifier and the issuer\'s key set', () => {
  it('refuses tokens of a key removed from the issuer\'s JWKS once the JWKS is fetched again, and accepts the new key\'s', async () => {
    const [oldKey, newKey] = await Promise.all([issuerKey('key-1'), issuerKey('key-2')]);
    published = [oldKey.jwk];
    const localKey = await loadOrCreateSigningKey(path.join(testDir('keys'), 'signing-key.json'));
    const verify = createTokenVerifier({
      auth: { tokenIssuer: 'sendguard', tokenAudience: 'sendguard', signingKeyFile: '', oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: ['RS256'] } },
      localKey,
      refreshMs: 300,
    });
    const oldToken = await oldKey.sign();
    expect(await verify(oldToken)).toMatchObject({ source: 'oidc', claims: { tid: 'contoso' } });

    published = [newKey.jwk]; // the issuer rotates key-1 out
    expect(await refusal(verify, oldToken)).toBe('accepted'); // still within the refresh period
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await refusal(verify, oldToken)).toBe("no key of the token's issuer matches it");
    expect(await verify(await newKey.sign())).toMatchObject({ source: 'oidc' });
  });
});
