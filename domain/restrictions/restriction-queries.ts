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
import { parseIsoDateTime } from '../date-time.ts';
import { isUuid } from '../ids.ts';
import { asciiSpelling } from '../mail-address.ts';
import { pageRequest, type PageArgs } from '../paging.ts';
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

/**
 * A cursor is a position in one order. Address-order cursors name their order, so one is never
 * read as a position in the time order or the other way round; time-order cursors keep the
 * original two-element form, so those already handed out (on Teams cards, say) stay valid.
 */
export function encodeCursor(r: Restriction, orderBy: RestrictionOrderField): string {
  const position = orderBy === 'createdAt' ? [r.createdAt.toISOString(), r.id] : ['entityKey', r.entityKey, r.id];
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function positionIn(parsed: unknown, orderBy: RestrictionOrderField): Position | undefined {
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) return undefined;
  const [value, id] = orderBy === 'createdAt' ? (parsed.length === 2 ? parsed : []) : parsed.length === 3 && parsed[0] === 'entityKey' ? parsed.slice(1) : [];
  if (typeof value !== 'string' || typeof id !== 'string' || !isUuid(id)) return undefined;
  // Only what the database can compare with: a time it stores, a key without NUL (no issued cursor holds another).
  if (orderBy === 'createdAt' ? parseIsoDateTime(value) === undefined : value.includes('\u0000')) return undefined;
  return { value, id };
}

export function decodeCursor(cursor: string, orderBy: RestrictionOrderField): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // not JSON: the typed error below
  }
  const position = positionIn(parsed, orderBy);
  if (position) return position;
  const otherOrder = positionIn(parsed, orderBy === 'createdAt' ? 'entityKey' : 'createdAt');
  throw new ValidationError('cursor', otherOrder ? 'the cursor belongs to another orderBy: page again from the start in this order' : 'the cursor is not one this API issued');
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

  /**
   * Whether a row is left on the cursor's other side (its own row included): a page after a
   * cursor has one before it only if so, even when the rows there were released since. One row,
   * read beside the page.
   */
  async function anyBehind(query: RestrictionListQuery & { after: Position }): Promise<boolean> {
    const rows = await listRestrictions(db, { ...query, descending: !query.descending, after: { ...query.after, inclusive: true }, limit: 1 });
    return rows.length > 0;
  }

  /** The page's rows (one more than asked, to tell whether more follow) and the total. */
  async function pageAndTotal(query: RestrictionListQuery): Promise<[Restriction[], number]> {
    if (query.search) return searchPage(query);
    // Without a search the page and its total are independent reads: side by side, one round trip less.
    return Promise.all([listRestrictions(db, query), countRestrictions(db, query)]);
  }

  /** Keyset-paginated list; cursors stay valid while rows are added. */
  async function list(
    tenantId: string,
    entityKind: EntityKind,
    filter: RestrictionFilter,
    order: { field: RestrictionOrderField; descending: boolean },
    args: PageArgs,
  ): Promise<RestrictionPage> {
    const { size, backwards, cursor } = pageRequest(args, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
    const search = filter.search?.trim() || undefined;
    const base = {
      tenantId,
      entityKind,
      search,
      searchAscii: search && asciiSpelling(search),
      reasonCodes: filter.reasonCodes,
      temporary: filter.temporary,
      statuses: filter.statuses ?? ['Restricted'],
    };
    const after = cursor ? decodeCursor(cursor, order.field) : undefined;
    const query = { ...base, orderBy: order.field, descending: backwards ? !order.descending : order.descending, after, limit: size + 1 };
    const [[rows, totalCount], behind] = await Promise.all([pageAndTotal(query), after ? anyBehind({ ...query, after }) : false]);
    const more = rows.length > size;
    const page = rows.slice(0, size);
    if (backwards) page.reverse();
    return {
      nodes: page,
      cursorOf: (r) => encodeCursor(r, order.field),
      totalCount,
      hasNextPage: backwards ? behind : more,
      hasPreviousPage: backwards ? more : behind,
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
