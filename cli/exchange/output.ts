export const outputFormats = ['table', 'json'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export type Row = Record<string, unknown>;

interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What a verb prints: results on stdout (a table for people, JSON for programs), notes on stderr. */
export interface Output {
  format: OutputFormat;
  /** A list: table columns on a terminal, every property in JSON (always an array, `[]` when empty). */
  list(rows: readonly Row[], columns: readonly string[]): void;
  /** One object: `Name : value` lines on a terminal, a JSON object otherwise. */
  record(row: Row): void;
  /** A message for the person at the terminal; never mixed into the results. */
  note(message: string): void;
}

/**
 * Free text (a release reason, a comment) on one line and harmless to a terminal: a line break or
 * tab becomes a space, any other control character (an escape sequence's ESC among them) U+FFFD,
 * so no value can break a table's rows or clear, recolour or retitle the admin's terminal.
 */
// eslint-disable-next-line no-control-regex
const onOneLine = (text: string): string => text.replace(/\r\n|[\n\r\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');

/** A value as PowerShell shows it in a table or list. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `{${value.map(formatValue).join(', ')}}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return onOneLine(String(value));
}

// East Asian wide and fullwidth characters and emoji take two terminal columns.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;
// Combining marks and zero-width characters take none.
const ZERO_WIDTH = /[\p{M}\u200b-\u200f\u2060\ufeff]/u;

/** How many columns a terminal gives `text`: `営` two, the accent of a decomposed `é` none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += ZERO_WIDTH.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return width;
}

const padToWidth = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/** PowerShell's Format-Table look: headers, a dashed rule, space-separated padded columns. */
export function renderTable(rows: readonly Row[], columns: readonly string[]): string {
  if (rows.length === 0) return '';
  const cells = rows.map((row) => columns.map((c) => formatValue(row[c])));
  const widths = columns.map((c, i) => Math.max(displayWidth(c), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (values: readonly string[]) => values.map((v, i) => (i === values.length - 1 ? v : padToWidth(v, widths[i] ?? 0))).join(' ').trimEnd();
  return [line(columns), line(columns.map((c) => '-'.repeat(c.length))), ...cells.map(line)].join('\n') + '\n';
}

/** PowerShell's Format-List look. */
export function renderList(row: Row): string {
  const keys = Object.keys(row);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)} : ${formatValue(row[k])}`.trimEnd()).join('\n') + '\n';
}

/** `-o` wins; otherwise a table on a terminal and JSON when piped. */
export function chooseFormat(requested: OutputFormat | undefined, stdout: Writable): OutputFormat {
  return requested ?? (stdout.isTTY ? 'table' : 'json');
}

export function createOutput(options: { format: OutputFormat; stdout: Writable; stderr: Writable }): Output {
  const { format, stdout, stderr } = options;
  const json = (value: unknown) => stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return {
    format,
    list(rows, columns) {
      if (format === 'json') json(rows);
      else stdout.write(renderTable(rows, columns));
    },
    record(row) {
      if (format === 'json') json(row);
      else stdout.write(renderList(row));
    },
    note(message) {
      stderr.write(`${message}\n`);
    },
  };
}

/** `Name: old → new` for each property `after` changes; empty when it changes nothing. */
export function describeChanges(before: Row, after: Row): string[] {
  return Object.keys(after)
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${formatValue(before[k]) || '(empty)'} → ${formatValue(after[k]) || '(empty)'}`);
}
