import { canonicalAddress } from '../mail-address.ts';
import { accept, senderNotPermitted, unknownSenderRefused, type Decision } from './decision.ts';

/** Who is sending: the tenant whose counts and restrictions apply, and the identity counted there. */
export interface Identity {
  tenantId: string;
  /** The sender address, canonical (the submitter's name for a null sender): chooses the policy. */
  sender: string;
  /** SASL user name or sender, canonical: counted and restricted. */
  counted: string;
}

export interface Submission {
  /** Envelope sender, canonical (`canonicalAddress`); empty for a null sender (`MAIL FROM:<>`). */
  sender: string;
  /** The authenticated submitter (SASL user name), canonical; empty when none. */
  submitter: string;
  /** The tenant the submitter authenticated to (the relay's credentials). */
  authenticatedTenantId?: string | undefined;
}

/** The tenants accepting the sender's and the submitter's domains (undefined: none, or not asked). */
export interface SubmissionTenants {
  sender: string | undefined;
  submitter: string | undefined;
}

/**
 * A Postfix SASL login without a domain (`alice`, as Dovecot often reports it) is taken as
 * `alice@<loginDomain>`, as Postfix's `smtpd_sasl_local_domain` qualifies it, so it has a tenant
 * to be counted and restricted in whatever the envelope sender says. The relay's own users are
 * counted in the tenant they authenticated to, by the name they have there.
 */
export function submissionOf(
  check: { sender: string; saslUsername?: string | undefined; authenticatedTenantId?: string | undefined },
  loginDomain?: string,
): Submission {
  const login = canonicalAddress(check.saslUsername ?? '');
  const qualified = login && loginDomain && check.authenticatedTenantId === undefined && !login.includes('@') ? canonicalAddress(`${login}@${loginDomain}`) : login;
  return { sender: canonicalAddress(check.sender), submitter: qualified, authenticatedTenantId: check.authenticatedTenantId };
}

/** Whether the submitter's own domain must be looked up: a SASL login of Postfix (not of the relay) other than the sender. */
export const needsSubmitterTenant = (s: Submission): boolean => s.submitter !== '' && s.submitter !== s.sender && s.authenticatedTenantId === undefined;

/**
 * An authenticated submitter is counted and restricted by its own name whatever MAIL FROM says
 * (null sender included), so a restricted login cannot send around its restriction: in the
 * tenant it authenticated to (relay), where a sender of another or of no tenant is refused; or,
 * for a SASL login of Postfix, in the tenant of its address's domain, else the sender's. Without
 * a submitter, the sender's domain picks the tenant and a null sender is not ours to count.
 */
export function identityOf(s: Submission, tenants: SubmissionTenants, unknownSender: 'accept' | 'reject'): Identity | Decision {
  const counted = s.submitter || s.sender;
  if (!counted) return accept('not-outbound');
  const sender = s.sender || counted;
  if (s.authenticatedTenantId !== undefined) {
    if (s.sender && tenants.sender !== s.authenticatedTenantId) return senderNotPermitted;
    return { tenantId: s.authenticatedTenantId, sender, counted };
  }
  if (s.sender && !tenants.sender && unknownSender === 'reject') return unknownSenderRefused;
  const tenantId = tenants.submitter ?? tenants.sender;
  if (!tenantId) return accept(s.sender ? 'unknown-sender' : 'not-outbound');
  return { tenantId, sender, counted };
}
