import type { Db } from '../../db/client.ts';
import { findOtherTenantsRelayUserInDomain } from '../../db/repos/relay-credentials.ts';
import { findOverlappingDomain, listAcceptedDomains, lockAcceptedDomains } from '../../db/repos/tenants.ts';
import { ValidationError } from '../restrictions/errors.ts';

function overlap(domain: string, taken: string): string {
  if (taken === domain) return 'another organisation has accepted it';
  return domain.endsWith(`.${taken}`) ? `another organisation has accepted ${taken}, of which it is a subdomain` : `another organisation has accepted ${taken}, a subdomain of it`;
}

/**
 * Whether a domain is a public suffix (`co.uk`, `com.au`, `github.io`), under which anyone can
 * register a name: no organisation owns its senders. Loaded on first use, so that a process
 * which never adds a domain does not hold the public suffix list.
 */
async function isPublicSuffix(domain: string): Promise<boolean> {
  const { getDomain } = await import('tldts');
  return getDomain(domain, { allowPrivateDomains: true }) === null;
}

/**
 * Refuses, with a ValidationError on `domain`, any of `domains` the tenant does not have yet that
 * is a public suffix (its subdomains would make every sender under it this tenant's, and no
 * other organisation could then accept a domain under it), that another organisation has accepted, or that is a parent or subdomain of one of its domains: the
 * most specific accepted domain owns a sender, so either would move senders (their counts,
 * restrictions and releases) from one organisation to the other. Takes the accepted domains' lock
 * for the rest of the transaction, so a concurrent add cannot slip in between check and insert.
 * Domains the tenant already has are left alone: a database that holds an overlap from before this
 * check still starts.
 */
export async function refuseOverlappingDomains(tx: Db, tenantId: string, domains: readonly string[]): Promise<void> {
  await lockAcceptedDomains(tx);
  const held = new Set(await listAcceptedDomains(tx, tenantId));
  for (const domain of domains.map((d) => d.toLowerCase())) {
    if (held.has(domain)) continue;
    if (await isPublicSuffix(domain)) throw new ValidationError('domain', `${domain} is not available: it is a public suffix, under which anyone can register a domain`);
    const taken = await findOverlappingDomain(tx, tenantId, domain);
    if (taken) throw new ValidationError('domain', `${domain} is not available: ${overlap(domain, taken.domain)}`);
    // A relay user of another organisation named by an address in it would be that organisation's still.
    if (await findOtherTenantsRelayUserInDomain(tx, tenantId, domain)) throw new ValidationError('domain', `${domain} is not available: another organisation has a relay user in it`);
  }
}
