import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { connectors } from '../schema/connectors.ts';
import { restrictions } from '../schema/restrictions.ts';

export type Connector = typeof connectors.$inferSelect;

export async function insertConnector(tx: Db, values: { tenantId: string; name: string; clientIpRanges: string[] }): Promise<Connector> {
  const [row] = await tx.insert(connectors).values(values).returning();
  if (!row) throw new Error('connector insert returned no row');
  return row;
}

export interface RestrictedConnector {
  tenantId: string;
  connectorId: string;
  name: string;
  clientIpRanges: string[];
  restrictionId: string;
}

/** Enabled connectors with an active, unexpired restriction (keyed by the connector id). */
export async function listRestrictedConnectors(db: Db, now: Date): Promise<RestrictedConnector[]> {
  return db
    .select({
      tenantId: connectors.tenantId,
      connectorId: connectors.id,
      name: connectors.name,
      clientIpRanges: connectors.clientIpRanges,
      restrictionId: restrictions.id,
    })
    .from(connectors)
    .innerJoin(
      restrictions,
      and(
        eq(restrictions.tenantId, connectors.tenantId),
        eq(restrictions.entityKind, 'connector'),
        eq(restrictions.entityKey, sql`${connectors.id}::text`),
        eq(restrictions.status, 'Restricted'),
      ),
    )
    .where(and(eq(connectors.enabled, true), or(isNull(restrictions.expiresAt), gt(restrictions.expiresAt, now))));
}

export async function findConnectorsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<Connector[]> {
  if (ids.length === 0) return [];
  return db.select().from(connectors).where(and(eq(connectors.tenantId, tenantId), anyOf(connectors.id, ids)));
}
