import type { AdaptiveCard } from './adaptive-card.ts';
import { adaptiveCard, header, text } from './card-elements.ts';
import type { RefusalReason } from './types.ts';

const refusals: Record<RefusalReason, { title: string; body: string }> = {
  NOT_TEAMS: {
    title: 'Sendguard works in Microsoft Teams',
    body: 'Open Sendguard in Microsoft Teams to see users restricted from sending email and to unblock them.',
  },
  UNKNOWN_TENANT: {
    title: "Your organization isn't set up for Sendguard",
    body: 'Sendguard only answers the Microsoft 365 organizations it protects. Ask your Sendguard admin to add your organization.',
  },
  NO_ROLE: {
    title: "You don't have access to restricted users",
    body:
      'To view restricted users you need the Global Reader, Security Reader or View-Only Organization Management role. ' +
      'To unblock them you need the Global Administrator, Security Administrator or Organization Management role. Ask your admin to assign you one.',
  },
};

/** A short, polite refusal that shows no data. */
export function refusalCard(input: { reason: RefusalReason }): AdaptiveCard {
  const refusal = refusals[input.reason];
  return adaptiveCard({
    fallbackText: `${refusal.title}. ${refusal.body}`,
    body: [...header('Sendguard', [refusal.title]), text(refusal.body, { spacing: 'medium' })],
  });
}
