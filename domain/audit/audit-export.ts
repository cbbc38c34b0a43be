import type { AuditRecord } from '../../db/repos/audit-log.ts';

export const auditExportFormats = ['csv', 'jsonl'] as const;
export type AuditExportFormat = (typeof auditExportFormats)[number];

/** The exported shape of one record, the same in CSV and JSON lines. */
export interface ExportedAuditRecord {
  id: number;
  occurredAt: string;
  tenantId: string;
  actorId: string;
  actorName: string;
  actorRoles: string[];
  source: string;
  action: string;
  targetKind: string;
  target: string;
  result: string;
  before: unknown;
  after: unknown;
  details: unknown;
}

export const csvColumns = ['id', 'occurredAt', 'tenantId', 'actorId', 'actorName', 'actorRoles', 'source', 'action', 'targetKind', 'target', 'result', 'before', 'after', 'details'] as const;

export function toExported(r: AuditRecord): ExportedAuditRecord {
  return {
    id: r.id,
    occurredAt: r.occurredAt.toISOString(),
    tenantId: r.tenantId,
    actorId: r.actorId,
    actorName: r.actorName,
    actorRoles: r.actorRoles,
    source: r.source,
    action: r.action,
    targetKind: r.targetKind,
    target: r.target,
    result: r.result,
    before: r.before ?? null,
    after: r.after ?? null,
    details: r.details ?? null,
  };
}

/**
 * RFC 4180: a field with a comma, a double quote, CR or LF is quoted, and its quotes doubled.
 * A value a spreadsheet would run as a formula (its first character is = + - @, a tab or a CR) is
 * written after an apostrophe, as OWASP advises: an envelope sender such as
 * `=hyperlink(…)@contoso.com` is chosen by whoever sends, and lands in the target column.
 */
export function csvField(value: string): string {
  const cell = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(';');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One CSV record with its CRLF terminator. */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map((v) => csvField(csvValue(v))).join(',')}\r\n`;
}

export const csvHeader = (): string => csvLine(csvColumns);

export function csvRecord(r: AuditRecord): string {
  const e = toExported(r);
  return csvLine(csvColumns.map((c) => e[c]));
}

/**
 * JSON.stringify leaves U+2028 and U+2029 raw: valid JSON, but line readers that end lines there
 * too (JavaScript before ES2019, some log shippers) would split the record. Escaped, they read the same.
 */
export function jsonLine(r: AuditRecord): string {
  return `${JSON.stringify(toExported(r)).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}
