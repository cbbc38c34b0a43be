import type { AdaptiveCard, CardAction } from './adaptive-card.ts';
import { adaptiveCard, callout, execute, facts, header, runs, text } from './card-elements.ts';
import { formatRelative, formatUtc, truncate } from './format.ts';
import { verbs } from './verbs.ts';

export type AlertSeverity = 'Low' | 'Medium' | 'High';

export interface AlertNoticeCardInput {
  /** The alert policy's name, e.g. "Email sending limit exceeded". */
  policyName: string;
  title: string;
  severity: AlertSeverity;
  /** One or two sentences: what happened. */
  summary: string;
  facts: readonly (readonly [string, string | null])[];
  /** A sender address when the alert is about a user; the card then offers its details. */
  senderAddress: string | null;
  firstSeenAt: string;
  now: Date;
}

const severityStyle = { High: 'attention', Medium: 'warning', Low: 'default' } as const;

/** An alert that is not a restriction notice (a limit crossed under the Alert action, or nearly reached). */
export function alertNoticeCard(input: AlertNoticeCardInput): AdaptiveCard {
  const actions: CardAction[] = input.senderAddress
    ? [execute(verbs.restrictedShow, 'Show sender', { senderAddress: input.senderAddress }), execute(verbs.policiesList, 'Policies', {})]
    : [execute(verbs.policiesList, 'Policies', {})];
  return adaptiveCard({
    fallbackText: `${input.policyName}: ${input.title}`,
    body: [
      ...header(`Alert · ${input.policyName} · ${input.severity} severity`, [truncate(input.title, 200)]),
      callout(severityStyle[input.severity], [runs([truncate(input.summary, 600)])], 'small'),
      facts([...input.facts, ['Raised', `${formatUtc(input.firstSeenAt)} (${formatRelative(input.firstSeenAt, input.now)})`]]),
      text('Check with the sender whether this volume of mail is expected; exceeding sending limits is an indicator of a compromised account.', {
        size: 'small',
        isSubtle: true,
        spacing: 'medium',
      }),
    ],
    actions,
  });
}
