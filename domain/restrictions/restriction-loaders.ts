import type { Db } from '../../db/client.ts';
import { findConnectorsByIds, type Connector } from '../../db/repos/connectors.ts';
import {
  findRestrictionsByIds,
  releasesForEntities,
  restrictionsForEntities,
  type EntityKind,
  type Release,
  type Restriction,
} from '../../db/repos/restrictions.ts';
import { uuidsOnly } from '../ids.ts';

/** Enough history for a detail view; older entries stay in the audit log. */
export const HISTORY_PER_ENTITY = 50;

function groupBy<T>(rows: T[], keys: readonly string[], keyOf: (row: T) => string, limit: number): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) {
    const group = groups.get(keyOf(row));
    if (group && group.length < limit) group.push(row);
  }
  return keys.map((k) => groups.get(k) ?? []);
}

/**
 * Batch reads for one page of restrictions: one query per relation, whatever the page size.
 * Every read is scoped to the tenant; ids from elsewhere simply find nothing.
 */
export function createRestrictionLoaders(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** Restrictions by id, in the order asked, null where missing, foreign or of the other kind. */
    async byIds(tenantId: string, entityKind: EntityKind, ids: readonly string[]): Promise<(Restriction | null)[]> {
      const rows = await findRestrictionsByIds(db, tenantId, uuidsOnly(ids));
      const byId = new Map(rows.filter((r) => r.entityKind === entityKind).map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    /** Each entity's restrictions, newest first. */
    async historyOf(tenantId: string, entityKind: EntityKind, entityKeys: readonly string[]): Promise<Restriction[][]> {
      const rows = await restrictionsForEntities(db, tenantId, entityKind, entityKeys);
      return groupBy(rows, entityKeys, (r) => r.entityKey, HISTORY_PER_ENTITY);
    },
    /** Connectors by id (a connector restriction's key), null where missing or foreign. */
    async connectors(tenantId: string, ids: readonly string[]): Promise<(Connector | null)[]> {
      const rows = await findConnectorsByIds(db, tenantId, uuidsOnly(ids));
      return ids.map((id) => rows.find((c) => c.id === id) ?? null);
    },
    /** Each entity's releases, newest first. */
    async releasesOf(tenantId: string, entityKind: EntityKind, entityKeys: readonly string[]): Promise<Release[][]> {
      const rows = await releasesForEntities(db, tenantId, entityKind, entityKeys);
      return groupBy(rows, entityKeys, (r) => r.entityKey, HISTORY_PER_ENTITY);
    },
  };
}

export type RestrictionLoaders = ReturnType<typeof createRestrictionLoaders>;
