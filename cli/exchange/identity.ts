import { CliError, ExitCode } from './exit-codes.ts';

/**
 * The item an `-Identity` names, matched as the API matches names: in any case (`default` finds
 * `Default`), an exact match first should two names differ only in case.
 */
export function findByName<T extends { name: string }>(items: readonly T[], identity: string): T | undefined {
  const wanted = identity.trim();
  return items.find((i) => i.name === wanted) ?? items.find((i) => i.name.toLowerCase() === wanted.toLowerCase());
}

/**
 * The `-Identity` given as an option or by position. Both, naming different items, is a usage
 * error: taking one would change an item the admin may not have meant (`-Identity A -From x, y`
 * leaves `y` by position when the shell splits the list).
 */
export function givenIdentity(options: { identity?: string }, positional: string | undefined, what: string): string | undefined {
  const { identity } = options;
  if (identity !== undefined && positional !== undefined && identity.trim().toLowerCase() !== positional.trim().toLowerCase()) {
    throw new CliError(ExitCode.usage, `the ${what} is named twice: --identity "${identity}" and "${positional}"; give one`);
  }
  const named = identity ?? positional;
  // An empty name (an unset shell variable) would otherwise list them all, or ask which one.
  if (named !== undefined && named.trim() === '') throw new CliError(ExitCode.usage, `the ${what}'s name is empty: give its name`);
  return named;
}
