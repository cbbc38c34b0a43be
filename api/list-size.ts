import { ValidationError } from '../domain/restrictions/errors.ts';

/**
 * How many items a list field (or a connection) returns at most, for the query cost
 * (`api/query-cost.ts`). Declared on the field as `extensions: listSize({ … })`.
 */
export interface ListSize {
  /**
   * The most items the field returns, whatever its arguments; its resolver holds to it. For a
   * tenant's own settings (its policies, credentials) it is what a tenant has at most in practice.
   */
  max: number;
  /** How many it returns when no size argument is given (default: `max`). */
  assumed?: number;
  /** The arguments that set the size (`first`, `last`, `ids`); a variable counts as `max`. */
  slicingArguments?: readonly string[];
  /** The child fields the size multiplies (a connection's `edges`); default: the whole selection. */
  sizedFields?: readonly string[];
}

export const listSize = (size: ListSize) => ({ listSize: size });

/** A connection of at most `max` per page, `assumed` when neither first nor last is given. */
export const pageSize = (max: number, assumed: number) => listSize({ max, assumed, slicingArguments: ['first', 'last'], sizedFields: ['edges'] });

/** The `first` argument of a bounded list: from 0 to `max`. */
export function boundedFirst(first: number | null | undefined, max: number): number {
  const size = first ?? max;
  if (!Number.isInteger(size) || size < 0 || size > max) throw new ValidationError('first', `first must be a whole number from 0 to ${max}`);
  return size;
}
