import { domainToASCII } from 'node:url';

/**
 * One spelling for every address and domain Sendguard keys by (senders, SASL logins, recipients,
 * restrictions), so a sender cannot get past its counts or its restriction by spelling its
 * address another way that its MTA still delivers as the same.
 */

const NON_ASCII = /[\u0080-\uffff]/;

/** A domain name in its canonical form: LDH labels, a TLD of letters or an internationalised (xn--) one. */
export const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;

/**
 * A domain as Sendguard keys it: lower-cased, without the root's trailing dot (`example.com.`
 * is delivered as `example.com`), and an internationalised name in its ASCII form
 * (`bücher.example` → `xn--bcher-kva.example`), as accepted domains are kept and as SMTPUTF8
 * clients may write either. A name that is no valid IDN stays as it is, and so matches nothing.
 */
export function canonicalDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  // As Postfix rewrites it: one trailing dot goes, `..` stays (and matches no accepted domain).
  const bare = lower.length > 1 && lower.endsWith('.') && !lower.endsWith('..') ? lower.slice(0, -1) : lower;
  // Only names with non-ASCII characters are converted: the URL host parser would also turn an
  // ASCII name ending in a number (`0x7f.1`) into an IPv4 address.
  return NON_ASCII.test(bare) ? domainToASCII(bare) || bare : bare;
}

/**
 * A local part as Postfix keeps it internally (and hands it to a policy server): a quoted one
 * without its quotes and escapes, so `"ann"@x` is `ann@x`, the mailbox it is delivered to.
 */
function unquotedLocalPart(local: string): string {
  return local.length > 1 && local.startsWith('"') && local.endsWith('"') ? local.slice(1, -1).replace(/\\(.)/gs, '$1') : local;
}

/** An address as Sendguard keys it: trimmed, the local part unquoted and lower-cased, the domain canonical; a name without `@` lower-cased. */
export function canonicalAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  return at < 0 ? trimmed.toLowerCase() : `${unquotedLocalPart(trimmed.slice(0, at)).toLowerCase()}@${canonicalDomain(trimmed.slice(at + 1))}`;
}

/** The canonical domain of an address; empty when it has none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : canonicalDomain(address.slice(at + 1));
}

/**
 * A search term as it would read in keys (`u9@bücher` → `u9@xn--bcher-kva`), or undefined when
 * that is the term itself: the labels of its domain part (all of it without an `@`) that are
 * internationalised, each in its ASCII form. Only whole labels convert (`ücher` has no ASCII
 * spelling inside `xn--bcher-kva`), and a local part stays as it is, as SMTPUTF8 keeps it; so a
 * search matches the term or this, either.
 */
export function asciiSpelling(term: string): string | undefined {
  const lower = term.toLowerCase();
  if (!NON_ASCII.test(lower)) return undefined;
  const at = lower.lastIndexOf('@');
  const domain = lower.slice(at + 1);
  const ascii = domain
    .split('.')
    .map((label) => (NON_ASCII.test(label) ? domainToASCII(label) || label : label))
    .join('.');
  return ascii === domain ? undefined : lower.slice(0, at + 1) + ascii;
}
