import { InvalidArgumentError, Option } from 'commander';
import { parseIsoDateTime } from '../../domain/date-time.ts';

/** `true`/`false`, also PowerShell's `$true`/`$false`. */
/** A boolean as the options take it (`$true`, `false`, `1`, `off`…), or undefined for any other word. */
export function booleanValue(value: string): boolean | undefined {
  const v = value.trim().toLowerCase().replace(/^\$/, '');
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return undefined;
}

export function parseBoolean(value: string): boolean {
  const b = booleanValue(value);
  if (b === undefined) throw new InvalidArgumentError('expected true or false ($true/$false)');
  return b;
}

/** A boolean option that works as a switch too: `--disabled` alone is true; `--disabled false` and `-Disabled:$false` still work. */
export function booleanSwitch(flags: string, description: string): Option {
  return new Option(`${flags} [bool]`, description).argParser(parseBoolean);
}

export function parseWholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** PowerShell's `$null`, kept as this word until the input is built: commander stores a parser's null as ''. */
export const NULL_VALUE = '$null';

/**
 * A whole number, or `$null` (also `null`) for "back to the default". The range is left to the
 * server, so a value out of it is refused with the server's own message.
 */
export function parseWholeNumberOrNull(value: string): number | typeof NULL_VALUE {
  const v = value.trim();
  if (/^\$?null$/i.test(v)) return NULL_VALUE;
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError("expected a whole number or null ('$null')");
  return Number(v);
}

/** PowerShell multi-valued parameters arrive comma-separated (`-From a@x.com,b@x.com`); `""` clears the list. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().replace(/^["']|["']$/g, ''))
    .filter(Boolean);
}

/** One of `values`, in any case, as PowerShell takes an enum value (`blockuser` is `BlockUser`). */
export function parseChoice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    const found = values.find((v) => v.toLowerCase() === value.trim().toLowerCase());
    if (!found) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return found;
  };
}

/** How PowerShell matches an enum name: in any case; underscores and dashes do not count either. */
const enumKey = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');

/** A comma-separated list of a GraphQL enum's values (`ENABLE_MFA`, `EnableMfa`, `enable-mfa`), as the API spells them. */
export function parseEnumList<T extends string>(values: readonly T[]) {
  return (value: string): T[] =>
    parseList(value).map((given) => {
      const found = values.find((v) => enumKey(v) === enumKey(given));
      if (!found) throw new InvalidArgumentError(`${given} is not one of ${values.join(', ')}`);
      return found;
    });
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** An ISO-8601 date or date-time; without an offset it is read as UTC, so results never depend on the machine's zone. */
export function parseDateTime(value: string): Date {
  const v = value.trim();
  if (!ISO_DATE.test(v)) throw new InvalidArgumentError('expected an ISO-8601 date such as 2026-11-26 or 2026-11-26T10:00:00Z');
  const withZone = v.length === 10 ? `${v}T00:00:00Z` : /(Z|[+-]\d{2}:\d{2})$/.test(v) ? v : `${v}Z`;
  const date = parseIsoDateTime(withZone);
  if (!date) throw new InvalidArgumentError('expected a date that exists, in the years 0001 to 9999');
  return date;
}
