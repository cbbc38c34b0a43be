import { canonicalAddress, canonicalDomain, DOMAIN_NAME } from '../mail-address.ts';
import { ValidationError } from '../restrictions/errors.ts';

export const MAX_LIMIT = 10_000;
const MAX_NAME = 64;
const MAX_LIST = 100;
// The characters Exchange Online refuses in policy and rule names.
const FORBIDDEN_NAME_CHARS = /[\\%&*+/=?{}|<>();:[\],"]/;
// Checked in their canonical form, so an internationalised domain is checked as its ASCII (xn--) labels.
// No control characters in the local part either (NUL, DEL, C1): no mail system takes them. The
// domain part is DOMAIN_NAME, its own anchor dropped.
const ADDRESS = new RegExp(`^[^\\s@\\x00-\\x1f\\x7f-\\x9f]+@${DOMAIN_NAME.source.slice(1)}`, 'i');

/** A policy or rule name as Exchange accepts it: 1–64 characters, none of `\ % & * + / = ? { } | < > ( ) ; : [ ] , "`. */
export function validName(field: string, value: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > MAX_NAME) throw new ValidationError(field, `${field} must be 1 to ${MAX_NAME} characters`);
  const bad = FORBIDDEN_NAME_CHARS.exec(name);
  if (bad) throw new ValidationError(field, `${field} must not contain ${bad[0]} (none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , ")`);
  // A tab or a zero-width space would make a name that looks like another one (Default\u200b).
  if (/[\p{Cc}\p{Cf}]/u.test(name)) throw new ValidationError(field, `${field} must not contain control or invisible formatting characters`);
  return name;
}

/** A recipient limit: a whole number 0–10000, where 0 means the service default. */
export function validLimit(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_LIMIT) throw new ValidationError(field, `${field} must be a whole number from 0 (the service default) to ${MAX_LIMIT}`);
  return value;
}

function validList(field: string, values: readonly string[], canonical: (value: string) => string, pattern: RegExp, what: string): string[] {
  if (values.length > MAX_LIST) throw new ValidationError(field, `${field} takes at most ${MAX_LIST} values`);
  const cleaned = values.map(canonical);
  const bad = cleaned.find((v) => !pattern.test(v));
  if (bad !== undefined) throw new ValidationError(field, `${field}: ${bad || '(empty)'} is not ${what}`);
  return [...new Set(cleaned)];
}

/** Addresses in their canonical form (`canonicalAddress`): `u9@bücher.example` is kept as `u9@xn--bcher-kva.example`. */
export const validAddresses = (field: string, values: readonly string[]) => validList(field, values, canonicalAddress, ADDRESS, 'an e-mail address');
/** Domains in their canonical form (`canonicalDomain`): `bücher.example` is kept as `xn--bcher-kva.example`. */
export const validDomains = (field: string, values: readonly string[]) => validList(field, values, canonicalDomain, DOMAIN_NAME, 'a domain name');

// A counted identity is an address or a relay user name: neither holds white space or control characters.
const SENDER_KEY = /^[^\s\p{Cc}]{1,320}$/u;

/** What is wrong with a sender as a request names it (to release or look up), if anything. */
export function senderKeyError(field: string, value: string): ValidationError | undefined {
  return SENDER_KEY.test(value.trim()) ? undefined : new ValidationError(field, `${field} must be 1 to 320 characters without spaces or control characters`);
}

/** A sender as a request names it, trimmed; else a ValidationError on `field`. */
export function validSenderKey(field: string, value: string): string {
  const error = senderKeyError(field, value);
  if (error) throw error;
  return value.trim();
}

export function validText(field: string, value: string, max: number): string {
  if (value.length > max) throw new ValidationError(field, `${field} must be at most ${max} characters`);
  return value;
}

/** The database's unique-index refusal (23505), whichever driver raised it. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
