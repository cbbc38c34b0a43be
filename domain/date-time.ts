/** Years a time may fall in: ISO-8601's four digits without BC, which PostgreSQL also stores as written. */
export const FIRST_YEAR = 1;
export const LAST_YEAR = 9999;

// An explicit offset (Z or ±hh:mm) is required, so a time is never read in the server's zone.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant an ISO-8601 date and time with an offset (`2026-11-26T10:00:00Z`) names, or
 * undefined when it names none: a day the month does not have (JavaScript would roll
 * `2027-02-30` over to 2 March), an hour past 23, or a time outside years 0001–9999 in UTC.
 */
export function parseIsoDateTime(text: string): Date | undefined {
  const parts = ISO_8601.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = parts.slice(1).map((p) => (p === undefined ? undefined : Number(p)));
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const date = new Date(text);
  const utcYear = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || utcYear < FIRST_YEAR || utcYear > LAST_YEAR ? undefined : date;
}
