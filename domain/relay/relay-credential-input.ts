import { canonicalAddress } from '../mail-address.ts';
import { ValidationError } from '../restrictions/errors.ts';

const MIN_PASSWORD = 12;

/**
 * The names a user name may be stored under, canonical first: a name that is an address is kept
 * as addresses are (`bob@bücher.example.` as `bob@xn--bcher-kva.example`), so either spelling
 * logs in, and is found by the CLI, as the same user; one created before that is still found as it was written.
 */
export function relayUsernameSpellings(username: string): string[] {
  return [...new Set([canonicalAddress(username), username.trim().toLowerCase()])];
}

/**
 * A user name as it is kept; the CLI's `--what-if` checks it too. A new one may not hold control
 * characters (they would reach logs, audit entries and SASL exchanges as they are); one created
 * before that rule is still found, to reset or delete it.
 */
export function validUsername(value: string, options: { new?: boolean } = {}): string {
  const username = canonicalAddress(value);
  const pattern = options.new ? /^[^\s:\p{Cc}]{1,256}$/u : /^[^\s:]{1,256}$/u;
  if (!pattern.test(username)) throw new ValidationError('username', 'a user name is 1 to 256 characters without spaces, colons or control characters');
  return username;
}

/** A relay password: at least 12 characters. The CLI's `--what-if` checks it too. */
export function validPassword(password: string): string {
  if (password.length < MIN_PASSWORD) throw new ValidationError('password', `a relay password has at least ${MIN_PASSWORD} characters`);
  return password;
}
