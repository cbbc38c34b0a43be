/**
 * One spelling for every address and domain Sendguard keys by (senders, SASL logins, recipients,
 * restrictions), so a sender cannot get past its counts or its restriction by spelling its
 * address another way that its MTA still delivers as the same.
 */

/**
 * A domain as Sendguard keys it: lower-cased, without the root's trailing dot (`example.com.`
 * is delivered as `example.com`).
 */
export function canonicalDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  // As Postfix rewrites it: one trailing dot goes, `..` stays (and matches no accepted domain).
  return lower.length > 1 && lower.endsWith('.') && !lower.endsWith('..') ? lower.slice(0, -1) : lower;
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
