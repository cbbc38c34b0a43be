import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { findRelayCredential, insertRelayCredential } from '../../db/repos/relay-credentials.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { RelayUsernameTakenError } from './errors.ts';

const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const MIN_PASSWORD = 12;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, KEY_BYTES, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64), so the cost can rise later without breaking stored hashes. */
export async function hashRelayPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyRelayPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export interface RelayIdentity {
  tenantId: string;
  username: string;
}

// Verifying an unknown user costs as much as a known one, so timing does not reveal user names.
const decoy = hashRelayPassword(randomBytes(12).toString('base64'));

/** SMTP AUTH credentials of the built-in relay, stored per tenant as scrypt hashes. */
export function createRelayCredentialService(deps: { db: Db }) {
  async function create(input: { tenantId: string; username: string; password: string }): Promise<RelayIdentity> {
    const username = input.username.trim().toLowerCase();
    if (!/^[^\s:]{1,256}$/.test(username)) throw new ValidationError('username', 'a user name is 1 to 256 characters without spaces or colons');
    if (input.password.length < MIN_PASSWORD) throw new ValidationError('password', `a relay password has at least ${MIN_PASSWORD} characters`);
    const passwordHash = await hashRelayPassword(input.password);
    const row = await insertRelayCredential(deps.db, { tenantId: input.tenantId, username, passwordHash });
    if (!row) throw new RelayUsernameTakenError(username);
    return { tenantId: row.tenantId, username: row.username };
  }

  async function verify(username: string, password: string): Promise<RelayIdentity | undefined> {
    const row = await findRelayCredential(deps.db, username.trim().toLowerCase());
    const ok = await verifyRelayPassword(password, row?.passwordHash ?? (await decoy));
    return row && ok ? { tenantId: row.tenantId, username: row.username } : undefined;
  }

  return { create, verify };
}

export type RelayCredentialService = ReturnType<typeof createRelayCredentialService>;
