import { ValidationError } from './restrictions/errors.ts';

/** Relay paging arguments, as a connection field receives them. */
export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

export interface PageRequest {
  size: number;
  /** `last`/`before`: the rows before the cursor, the nearest `size` of them. */
  backwards: boolean;
  cursor: string | undefined;
}

/**
 * One direction at a time: `first`/`after` forwards, `last`/`before` backwards. A mix (first with
 * last, or a cursor of the other direction) is refused rather than half ignored.
 */
export function pageRequest(args: PageArgs, max: number, defaultSize: number): PageRequest {
  const forwards = args.first != null || args.after != null;
  const backwards = args.last != null || args.before != null;
  if (args.first != null && args.last != null) throw new ValidationError('last', 'give first or last, not both');
  if (forwards && backwards) throw new ValidationError(args.before != null ? 'before' : 'after', 'page one way at a time: first and after forwards, or last and before backwards');
  const field = backwards ? 'last' : 'first';
  const size = (backwards ? args.last : args.first) ?? defaultSize;
  if (!Number.isInteger(size) || size < 0) throw new ValidationError(field, 'page size must be a non-negative integer');
  if (size > max) throw new ValidationError(field, `page size is capped at ${max}`);
  return { size, backwards, cursor: (backwards ? args.before : args.after) ?? undefined };
}
