import { eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { relayCredentials } from '../schema/relay-credentials.ts';

export type RelayCredential = typeof relayCredentials.$inferSelect;

/** Inserts a credential; undefined when the user name is taken. */
export async function insertRelayCredential(tx: Db, values: { tenantId: string; username: string; passwordHash: string }): Promise<RelayCredential | undefined> {
  const [row] = await tx.insert(relayCredentials).values(values).onConflictDoNothing().returning();
  return row;
}

export async function findRelayCredential(db: Db, username: string): Promise<RelayCredential | undefined> {
  const [row] = await db.select().from(relayCredentials).where(eq(relayCredentials.username, username));
  return row;
}
