import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { transactionOrDryRun, type Db } from '../../db/client.ts';
import {
  deleteRelayCredential,
  findRelayCredential,
  findRelayCredentialsByIds,
  insertRelayCredential,
  listRelayCredentials,
  updateRelayPasswordHash,
  type RelayCredentialSummary,
} from '../../db/repos/relay-credentials.ts';
import { systemActor, type Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../clock.ts';
import { uuidsOnly } from '../ids.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { findTenantByDomain, lockAcceptedDomains } from '../../db/repos/tenants.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { RelayUsernameTakenError } from './errors.ts';
import { relayUsernameSpellings, validPassword, validUsername } from './relay-credential-input.ts';

const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

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

export interface RelayCredentialCommand {
  tenantId: string;
  actor: Actor;
  username: string;
}

// Verifying an unknown user costs as much as a known one, so timing does not reveal user names.
const decoy = hashRelayPassword(randomBytes(12).toString('base64'));

const TARGET_KIND = 'relayCredential';

/** The first of a user name's spellings for which `find` finds something. */
async function firstFound<T>(username: string, find: (stored: string) => Promise<T | undefined>): Promise<T | undefined> {
  for (const stored of relayUsernameSpellings(username)) {
    const found = await find(stored);
    if (found) return found;
  }
  return undefined;
}

/**
 * A user name that is an address in a domain another organisation has accepted is refused: user
 * names are unique across tenants, so taking it would lock that organisation's own mailbox out of
 * the relay. (The accepted domains' lock keeps a concurrent addAcceptedDomain from slipping in.)
 */
async function refuseAnotherOrganisationsAddress(tx: Db, tenantId: string, username: string): Promise<void> {
  const at = username.lastIndexOf('@');
  if (at < 0) return;
  await lockAcceptedDomains(tx);
  const owner = await findTenantByDomain(tx, username.slice(at + 1));
  if (owner && owner.tenantId !== tenantId) throw new ValidationError('username', `${username} is an address of another organisation's domain`);
}

/** What the audit log keeps of a credential: never the password or its hash. */
const audited = (c: RelayCredentialSummary) => ({ username: c.username, createdAt: c.createdAt });

/**
 * SMTP AUTH credentials of the built-in relay, stored per tenant as scrypt hashes. User names are
 * unique across tenants, because a client authenticates before the relay knows its tenant.
 */
export function createRelayCredentialService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  /**
   * Without an actor (provisioning from code), Sendguard itself is recorded as having created it.
   * A dry run does everything, the database's checks included (a user name taken, another
   * organisation's address), in a transaction it rolls back: it refuses what the call would, and
   * otherwise returns the credential the call would create, which does not exist.
   */
  async function create(input: Omit<RelayCredentialCommand, 'actor'> & { actor?: Actor; password: string; dryRun?: boolean }): Promise<RelayCredentialSummary> {
    const username = validUsername(input.username, { new: true });
    const password = validPassword(input.password);
    // A dry run stores nothing, so it spends no scrypt on a hash it would throw away.
    const passwordHash = input.dryRun ? '' : await hashRelayPassword(password);
    const actor = input.actor ?? systemActor('setup');
    return transactionOrDryRun(db, input.dryRun, async (tx) => {
      await refuseAnotherOrganisationsAddress(tx, input.tenantId, username);
      const at = clock.now();
      const created = await insertRelayCredential(tx, { tenantId: input.tenantId, username, passwordHash, createdAt: at });
      if (!created) throw new RelayUsernameTakenError(username);
      await recordAudit(tx, { tenantId: input.tenantId, actor, action: 'New-RelayCredential', targetKind: TARGET_KIND, target: username, before: null, after: audited(created), at });
      return created;
    });
  }

  /** Sets a new password; sessions already authenticated keep going, new AUTH needs the new one. */
  async function resetPassword(cmd: RelayCredentialCommand & { password: string }): Promise<RelayCredentialSummary> {
    const username = validUsername(cmd.username);
    const passwordHash = await hashRelayPassword(validPassword(cmd.password));
    return db.transaction(async (tx) => {
      const at = clock.now();
      const updated = await firstFound(cmd.username, (stored) => updateRelayPasswordHash(tx, cmd.tenantId, stored, passwordHash));
      if (!updated) throw new NotFoundError('relay credential', username);
      await recordAudit(tx, {
        tenantId: cmd.tenantId,
        actor: cmd.actor,
        action: 'Set-RelayCredential',
        targetKind: TARGET_KIND,
        target: updated.username,
        before: audited(updated),
        after: audited(updated),
        details: { changed: ['password'] },
        at,
      });
      return updated;
    });
  }

  async function remove(cmd: RelayCredentialCommand): Promise<RelayCredentialSummary> {
    const username = validUsername(cmd.username);
    return db.transaction(async (tx) => {
      const at = clock.now();
      const removed = await firstFound(cmd.username, (stored) => deleteRelayCredential(tx, cmd.tenantId, stored));
      if (!removed) throw new NotFoundError('relay credential', username);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Remove-RelayCredential', targetKind: TARGET_KIND, target: removed.username, before: audited(removed), after: null, at });
      return removed;
    });
  }

  async function verify(username: string, password: string): Promise<RelayIdentity | undefined> {
    const row = await firstFound(username, (stored) => findRelayCredential(db, stored));
    const ok = await verifyRelayPassword(password, row?.passwordHash ?? (await decoy));
    return row && ok ? { tenantId: row.tenantId, username: row.username } : undefined;
  }

  return {
    create,
    resetPassword,
    remove,
    verify,
    list: (tenantId: string) => listRelayCredentials(db, tenantId),
    byIds: (tenantId: string, ids: readonly string[]) => findRelayCredentialsByIds(db, tenantId, uuidsOnly(ids)),
  };
}

export type RelayCredentialService = ReturnType<typeof createRelayCredentialService>;
