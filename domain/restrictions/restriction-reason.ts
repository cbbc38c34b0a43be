import type { Restriction } from '../../db/repos/restrictions.ts';

const limitWords: Record<string, string> = {
  RecipientLimitExternalPerHour: 'external recipients per hour',
  RecipientLimitInternalPerHour: 'internal recipients per hour',
  RecipientLimitPerDay: 'recipients per day',
  ServiceRecipientsPerDay: 'recipients per rolling 24 hours',
};

function limitText(r: Pick<Restriction, 'exceededLimit' | 'limitValue'>): string {
  const words = r.exceededLimit ? (limitWords[r.exceededLimit] ?? r.exceededLimit) : 'recipients';
  return r.limitValue === null ? `limit of ${words}` : `limit of ${r.limitValue} ${words}`;
}

/** One sentence an admin reads first: why this sender cannot send. */
export function describeRestriction(r: Pick<Restriction, 'reasonCode' | 'exceededLimit' | 'limitValue' | 'policyName' | 'details'>): string {
  const details = r.details ? ` ${r.details}` : '';
  switch (r.reasonCode) {
    case 'SendingLimitExceeded':
      return `Exceeded the ${limitText(r)}${r.policyName ? ` set by the outbound spam policy ${r.policyName}` : ''}.`;
    case 'ServiceRecipientLimit':
      return `Reached the service's ${limitText(r)}; the restriction clears by itself as the window moves on.`;
    case 'SuspectedCompromise':
      return `An admin restricted this sender because the account looks compromised.${details}`;
    case 'ManualBlock':
      return `An admin restricted this sender.${details}`;
    default:
      return `${r.reasonCode}.${details}`;
  }
}
