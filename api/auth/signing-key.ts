import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256';

/** Sendguard's own key for local tokens (`sendguard token`, the bot). */
export interface SigningKey {
  alg: SigningAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve === 'prime256v1') return 'ES256';
  if (type === 'ec' && curve === 'secp384r1') return 'ES384';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  throw new Error(`the signing key is a ${type ?? 'unknown'} ${curve ?? ''} key; use an EC P-256/P-384, Ed25519 or RSA private key`);
}

async function fromJwk(jwk: JWK & { alg?: string }): Promise<SigningKey> {
  if (!jwk.d) throw new Error('the signing key file holds no private key');
  const privateObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
  const alg = (jwk.alg as SigningAlgorithm | undefined) ?? algorithmOf(privateObject);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return {
    alg,
    kid: jwk.kid ?? (await calculateJwkThumbprint(publicJwk)),
    privateKey: (await importJWK(jwk, alg)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
  };
}

async function fromPem(pem: string): Promise<SigningKey> {
  const privateObject = createPrivateKey(pem);
  const publicJwk = createPublicKey(privateObject).export({ format: 'jwk' }) as JWK;
  const jwk = { ...(privateObject.export({ format: 'jwk' }) as JWK), alg: algorithmOf(privateObject), kid: await calculateJwkThumbprint(publicJwk) };
  return fromJwk(jwk);
}

async function generate(file: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const { d: _d, ...publicJwk } = jwk;
  const contents = JSON.stringify({ ...jwk, alg: 'ES256', use: 'sig', kid: await calculateJwkThumbprint(publicJwk) });
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${contents}\n`, { mode: 0o600, flag: 'wx' });
    return contents;
  } catch (err) {
    // Another process starting on the same data dir wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw err;
  }
}

function parse(contents: string): Promise<SigningKey> {
  const text = contents.trim();
  return text.startsWith('-----BEGIN') ? fromPem(text) : fromJwk(JSON.parse(text) as JWK);
}

/** Reads the key (JWK JSON or PKCS#8 PEM) from `file`, generating an ES256 key there (mode 0600) when missing. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  let contents: string;
  try {
    contents = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    contents = await generate(file);
  }
  return parse(contents);
}

/** Reads the key from `file`, which must exist: for a process that signs for an API elsewhere. */
export function loadSigningKey(file: string): Promise<SigningKey> {
  return parse(readFileSync(file, 'utf8'));
}
