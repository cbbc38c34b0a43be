import { domainToASCII } from 'node:url';

/**
 * One spelling for every address and domain Sendguard keys by (senders, SASL logins, recipients,
 * restrictions), so a sender cannot get past its counts or its restriction by spelling its
 * address another way that its MTA still delivers as the same.
 */

const NON_ASCII = /[\u0080-\uffff]/;

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

/** An address as Sendguard keys it: trimmed, the local part lower-cased, the domain canonical; a name without `@` lower-cased. */
export function canonicalAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  return at < 0 ? trimmed.toLowerCase() : `${trimmed.slice(0, at).toLowerCase()}@${canonicalDomain(trimmed.slice(at + 1))}`;
}

/** The canonical domain of an address; empty when it has none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : canonicalDomain(address.slice(at + 1));
}
