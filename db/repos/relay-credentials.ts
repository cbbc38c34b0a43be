import { and, asc, eq, like, ne, or } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { relayCredentials } from '../schema/relay-credentials.ts';

export type RelayCredential = typeof relayCredentials.$inferSelect;
/** A credential as admins see it: never its password hash. */
export type RelayCredentialSummary = Omit<RelayCredential, 'passwordHash'>;

const summary = { id: relayCredentials.id, tenantId: relayCredentials.tenantId, username: relayCredentials.username, createdAt: relayCredentials.createdAt };

/** Inserts a credential; undefined when the user name is taken. */
export async function insertRelayCredential(tx: Db, values: { tenantId: string; username: string; passwordHash: string; createdAt?: Date }): Promise<RelayCredentialSummary | undefined> {
  const [row] = await tx.insert(relayCredentials).values(values).onConflictDoNothing().returning(summary);
  return row;
}

/** The credential a client authenticates with, whatever its tenant (user names are unique across tenants). */
export async function findRelayCredential(db: Db, username: string): Promise<RelayCredential | undefined> {
  const [row] = await db.select().from(relayCredentials).where(eq(relayCredentials.username, username));
  return row;
}

/** Another tenant's credential whose user name is an address in `domain` or one of its subdomains. */
export async function findOtherTenantsRelayUserInDomain(db: Db, tenantId: string, domain: string): Promise<RelayCredentialSummary | undefined> {
  const lower = domain.toLowerCase();
  const [row] = await db
    .select(summary)
    .from(relayCredentials)
    // Accepted domains hold no LIKE wildcards (letters, digits, dots and hyphens only).
    .where(and(ne(relayCredentials.tenantId, tenantId), or(like(relayCredentials.username, `%@${lower}`), like(relayCredentials.username, `%@%.${lower}`))))
    .orderBy(asc(relayCredentials.username))
    .limit(1);
  return row;
}

export async function listRelayCredentials(db: Db, tenantId: string): Promise<RelayCredentialSummary[]> {
  return db.select(summary).from(relayCredentials).where(eq(relayCredentials.tenantId, tenantId)).orderBy(asc(relayCredentials.username));
}

export async function findRelayCredentialsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<RelayCredentialSummary[]> {
  if (ids.length === 0) return [];
  return db
    .select(summary)
    .from(relayCredentials)
    .where(and(eq(relayCredentials.tenantId, tenantId), anyOf(relayCredentials.id, ids)));
}

/** Replaces the password hash of the tenant's credential; undefined when the tenant has no such user name. */
export async function updateRelayPasswordHash(tx: Db, tenantId: string, username: string, passwordHash: string): Promise<RelayCredentialSummary | undefined> {
  const [row] = await tx
    .update(relayCredentials)
    .set({ passwordHash })
    .where(and(eq(relayCredentials.tenantId, tenantId), eq(relayCredentials.username, username)))
    .returning(summary);
  return row;
}

export async function deleteRelayCredential(tx: Db, tenantId: string, username: string): Promise<RelayCredentialSummary | undefined> {
  const [row] = await tx
    .delete(relayCredentials)
    .where(and(eq(relayCredentials.tenantId, tenantId), eq(relayCredentials.username, username)))
    .returning(summary);
  return row;
}
