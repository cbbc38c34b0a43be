import type { Db } from '../../db/client.ts';
import {
  countRestrictions,
  findRestrictionById,
  listAndCountRestrictions,
  listEntityRestrictions,
  listRestrictions,
  releasesForRestrictions,
  type EntityKind,
  type Release,
  type Restriction,
  type RestrictionListQuery,
  type RestrictionOrderField,
  type RestrictionStatus,
} from '../../db/repos/restrictions.ts';
import { ValidationError } from './errors.ts';
import { normalizeEntityKey } from './restriction-service.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

export interface RestrictionFilter {
  search?: string | undefined;
  reasonCodes?: string[] | undefined;
  temporary?: boolean | undefined;
  /** Default: active restrictions only. */
  statuses?: RestrictionStatus[] | undefined;
}

export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

export interface RestrictionPage {
  nodes: Restriction[];
  cursorOf(restriction: Restriction): string;
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

interface Position {
  value: string;
  id: string;
}

export function encodeCursor(r: Restriction, orderBy: RestrictionOrderField): string {
  const value = orderBy === 'createdAt' ? r.createdAt.toISOString() : r.entityKey;
  return Buffer.from(JSON.stringify([value, r.id])).toString('base64url');
}

export function decodeCursor(cursor: string, orderBy: RestrictionOrderField): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && /^[0-9a-f-]{36}$/.test(parsed[1])) {
      if (orderBy === 'createdAt' && Number.isNaN(Date.parse(parsed[0]))) throw new Error('not a time');
      return { value: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError('cursor', 'the cursor is not one this API issued');
}

function pageSize(args: PageArgs): number {
  const size = args.last ?? args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0) throw new ValidationError(args.last != null ? 'last' : 'first', 'page size must be a non-negative integer');
  if (size > MAX_PAGE_SIZE) throw new ValidationError(args.last != null ? 'last' : 'first', `page size is capped at ${MAX_PAGE_SIZE}`);
  return size;
}

export function createRestrictionQueries(deps: { db: Db }) {
  const { db } = deps;

  /** A search reads its matches once for the page and the total (see `listAndCountRestrictions`). */
  async function searchPage(query: RestrictionListQuery): Promise<[Restriction[], number]> {
    const { rows, total } = await listAndCountRestrictions(db, query);
    if (total !== undefined) return [rows, total];
    // No row to carry the total: without a cursor there is no match; past the last one, count them.
    return [rows, query.after ? await countRestrictions(db, query) : 0];
  }

  /** Keyset-paginated list; cursors stay valid while rows are added. */
  async function list(
    tenantId: string,
    entityKind: EntityKind,
    filter: RestrictionFilter,
    order: { field: RestrictionOrderField; descending: boolean },
    args: PageArgs,
  ): Promise<RestrictionPage> {
    const size = pageSize(args);
    const backwards = args.last != null;
    const cursor = backwards ? args.before : args.after;
    const base = {
      tenantId,
      entityKind,
      search: filter.search?.trim() || undefined,
      reasonCodes: filter.reasonCodes,
      temporary: filter.temporary,
      statuses: filter.statuses ?? ['Restricted'],
    };
    const query = {
      ...base,
      orderBy: order.field,
      descending: backwards ? !order.descending : order.descending,
      after: cursor ? decodeCursor(cursor, order.field) : undefined,
      limit: size + 1,
    };
    // Without a search the page and its total are independent reads: side by side, one round trip less.
    const [rows, totalCount] = base.search ? await searchPage(query) : await Promise.all([listRestrictions(db, query), countRestrictions(db, base)]);
    const more = rows.length > size;
    const page = rows.slice(0, size);
    if (backwards) page.reverse();
    return {
      nodes: page,
      cursorOf: (r) => encodeCursor(r, order.field),
      totalCount,
      hasNextPage: backwards ? Boolean(args.before) : more,
      hasPreviousPage: backwards ? more : Boolean(args.after),
    };
  }

  /** The entity's current restriction if active, else its latest one. */
  async function latest(tenantId: string, entityKind: EntityKind, entityKey: string): Promise<Restriction | undefined> {
    const history = await listEntityRestrictions(db, { tenantId, entityKind, entityKey: normalizeEntityKey(entityKind, entityKey) }, 20);
    return history.find((r) => r.status === 'Restricted') ?? history[0];
  }

  async function history(tenantId: string, entityKind: EntityKind, entityKey: string): Promise<{ restrictions: Restriction[]; releases: Release[] }> {
    const restrictions = await listEntityRestrictions(db, { tenantId, entityKind, entityKey: normalizeEntityKey(entityKind, entityKey) });
    const releases = await releasesForRestrictions(db, restrictions.map((r) => r.id));
    return { restrictions, releases };
  }

  return { list, latest, history, byId: (tenantId: string, id: string) => findRestrictionById(db, tenantId, id) };
}

export type RestrictionQueries = ReturnType<typeof createRestrictionQueries>;
