import { ValidationError } from '../domain/restrictions/errors.ts';

/**
 * An update keeps what it is not given. A field given as null would read as "not given" and be
 * answered with success, changing nothing the caller asked for: it is refused instead.
 * `otherwise`: what to give instead, by field, where a value can be cleared.
 */
export function refuseNulls(input: Readonly<Record<string, unknown>>, otherwise: Readonly<Record<string, string>> = {}): void {
  const field = Object.keys(input).find((key) => input[key] === null);
  if (field) throw new ValidationError(field, `${field} cannot be null: leave it out to keep it as it is${otherwise[field] ? `, or ${otherwise[field]}` : ''}`);
}
