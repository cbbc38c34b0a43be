import type { Db } from '../../db/client.ts';
import { findAuditRecordsByIds, listAuditPage, searchAudit, type AuditRecord, type AuditSearch } from '../../db/repos/audit-log.ts';
import { asciiSpelling } from '../mail-address.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { csvHeader, csvRecord, jsonLine, type AuditExportFormat } from './audit-export.ts';

export const MAX_AUDIT_PAGE = 200;
/** The most records one export answer carries; a larger export needs a narrower filter (or several). */
export const MAX_EXPORT_RECORDS = 50_000;
const EXPORT_PAGE = 500;

export interface AuditFilter {
  /** Actor id (exact) or part of the actor's name. */
  actor?: string | undefined;
  action?: string | undefined;
  /** Part of the target (an address, a policy name, an alert id). */
  target?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditPage {
  records: AuditRecord[];
  cursorOf(record: AuditRecord): string;
  totalCount: number;
  hasNextPage: boolean;
}

export function encodeAuditCursor(r: AuditRecord): string {
  return Buffer.from(`audit:${r.id}`).toString('base64url');
}

function decodeAuditCursor(cursor: string): number {
  const match = /^audit:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw new ValidationError('after', 'the cursor is not one this API issued');
  return Number(match[1]);
}

function validate(filter: AuditFilter): void {
  if (filter.from && filter.to && filter.from > filter.to) throw new ValidationError('from', 'from must not be after to');
}

/** The filter as the log is searched: addresses are kept with an internationalised domain in ASCII, so `bücher` also finds `xn--bcher-kva`. */
function searchOf(tenantId: string, filter: AuditFilter): Omit<AuditSearch, 'beforeId' | 'limit'> {
  const { target, ...rest } = filter;
  const targets = target ? [target, asciiSpelling(target)].filter((t) => t !== undefined) : undefined;
  return { tenantId, ...rest, targets };
}

/** Reading the audit log: search (newest first) and export (oldest first, streamed page by page). */
/** What an export starts with: CSV's header row; nothing for JSON lines. */
const exportHeader = (format: AuditExportFormat): string => (format === 'csv' ? csvHeader() : '');

/** One page of records as export text. */
const exportPage = (page: readonly AuditRecord[], format: AuditExportFormat): string => page.map(format === 'csv' ? csvRecord : jsonLine).join('');

export function createAuditQueries(deps: { db: Db }) {
  const { db } = deps;

  async function search(tenantId: string, filter: AuditFilter, page: { first?: number | null | undefined; after?: string | null | undefined }): Promise<AuditPage> {
    validate(filter);
    const size = page.first ?? 50;
    if (!Number.isInteger(size) || size < 0 || size > MAX_AUDIT_PAGE) throw new ValidationError('first', `first must be a whole number from 0 to ${MAX_AUDIT_PAGE}`);
    const beforeId = page.after ? decodeAuditCursor(page.after) : undefined;
    const { records, totalCount } = await searchAudit(db, { ...searchOf(tenantId, filter), beforeId, limit: size + 1 });
    const nodes = records.slice(0, size);
    return { records: nodes, cursorOf: encodeAuditCursor, totalCount, hasNextPage: records.length > size };
  }

  /** Every matching record, oldest first, one page at a time (only one page is in memory). */
  async function* pages(tenantId: string, filter: AuditFilter, pageSize = EXPORT_PAGE): AsyncGenerator<AuditRecord[]> {
    validate(filter);
    let cursorId: number | undefined;
    for (;;) {
      const page = await listAuditPage(db, { ...searchOf(tenantId, filter), ascending: true, cursorId, limit: pageSize });
      if (page.length > 0) yield page;
      const last = page[page.length - 1];
      if (!last || page.length < pageSize) return;
      cursorId = last.id;
    }
  }

  /** The export as text chunks, one per page: CSV (RFC 4180, header row, CRLF) or JSON lines. */
  async function* exportLog(tenantId: string, filter: AuditFilter, format: AuditExportFormat, pageSize = EXPORT_PAGE): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader();
    for await (const page of pages(tenantId, filter, pageSize)) yield exportPage(page, format);
  }

  /**
   * The whole export as one text, for answers that cannot stream; refuses more than `maxRecords`.
   * Records written while it is read are in it too, so its count is of the records it holds (the
   * count taken first only refuses early) and the cap is checked again as they come.
   */
  async function exportText(tenantId: string, filter: AuditFilter, format: AuditExportFormat, maxRecords = MAX_EXPORT_RECORDS): Promise<{ text: string; count: number }> {
    validate(filter);
    const tooMany = (n: number) => new ValidationError('filter', `${n} records match; one export carries at most ${maxRecords}: narrow the time range`);
    const { totalCount } = await searchAudit(db, { ...searchOf(tenantId, filter), limit: 0 });
    if (totalCount > maxRecords) throw tooMany(totalCount);
    let text = exportHeader(format);
    let count = 0;
    for await (const page of pages(tenantId, filter)) {
      count += page.length;
      if (count > maxRecords) throw tooMany(count);
      text += exportPage(page, format);
    }
    return { text, count };
  }

  /** In the order asked; null where missing or of another tenant. */
  async function byIds(tenantId: string, ids: readonly string[]): Promise<(AuditRecord | null)[]> {
    const numeric = ids.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    const found = new Map((await findAuditRecordsByIds(db, tenantId, numeric)).map((r) => [String(r.id), r]));
    return ids.map((id) => found.get(id) ?? null);
  }

  return { search, pages, exportLog, exportText, byIds };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
