import type { AdaptiveCard, CardElement } from './adaptive-card.ts';
import { adaptiveCard, container, execute, facts, header, run, runs, subtle } from './card-elements.ts';
import { describePolicyLimit, formatUtc, plural, thresholdActionLabels, truncate } from './format.ts';
import type { OutboundSpamPolicy, PolicyConditions, ServiceLimits } from './types.ts';
import { verbs } from './verbs.ts';

export interface PoliciesCardInput {
  policies: readonly OutboundSpamPolicy[];
  serviceLimits: ServiceLimits;
  now: Date;
  refreshUserIds?: readonly string[];
}

/** Policies shown; Exchange allows more, but a card this long is read in the portal anyway. */
export const maxPoliciesShown = 10;

function list(values: readonly string[], max = 3): string {
  const shown = values.slice(0, max).join(', ');
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}

/** "From a@x, b@x; member of Sales; domain contoso.com. Except from c@x" */
export function describeConditions(c: PolicyConditions | null): string {
  if (!c) return 'Everyone not covered by another policy';
  const part = (from: string[], memberOf: string[], domains: string[]) =>
    [from.length ? `senders ${list(from)}` : '', memberOf.length ? `members of ${list(memberOf)}` : '', domains.length ? `sender domain ${list(domains)}` : '']
      .filter(Boolean)
      .join('; ');
  const applies = part(c.from, c.fromMemberOf, c.senderDomainIs) || 'Everyone';
  const except = part(c.exceptIfFrom, c.exceptIfFromMemberOf, c.exceptIfSenderDomainIs);
  return truncate(except ? `${applies}; except ${except}` : applies, 240);
}

function policySection(policy: OutboundSpamPolicy, limits: ServiceLimits, first: boolean): CardElement {
  const rank = policy.isDefault ? 'Default policy, lowest priority' : `Priority ${policy.priority ?? '?'}`;
  const state = policy.enabled ? '' : ' · Off';
  return container(
    [
      runs([run(truncate(policy.name, 64), { weight: 'bolder' }), run(`  ${rank}${state}`, { isSubtle: true, size: 'small' })]),
      facts(
        [
          ['Applies to', policy.isDefault ? 'Everyone not covered by another policy' : describeConditions(policy.conditions)],
          ['External limit', describePolicyLimit(policy.recipientLimitExternalPerHour, limits.recipientLimitExternalPerHour, 'recipients per hour')],
          ['Internal limit', describePolicyLimit(policy.recipientLimitInternalPerHour, limits.recipientLimitInternalPerHour, 'recipients per hour')],
          ['Daily limit', describePolicyLimit(policy.recipientLimitPerDay, limits.recipientLimitPerDay, 'recipients per day')],
          ['Action', thresholdActionLabels[policy.actionWhenThresholdReached]],
          ['Notify', policy.notify.length ? truncate(list(policy.notify), 240) : 'Nobody besides the alert policy'],
        ],
        'small',
      ),
    ],
    { separator: !first, spacing: first ? 'medium' : 'large' },
  );
}

function byPriority(a: OutboundSpamPolicy, b: OutboundSpamPolicy): number {
  if (a.isDefault !== b.isDefault) return a.isDefault ? 1 : -1;
  return (a.priority ?? Number.MAX_SAFE_INTEGER) - (b.priority ?? Number.MAX_SAFE_INTEGER);
}

/** Outbound spam policies in the order they are applied, with their limits and actions. */
export function policiesCard(input: PoliciesCardInput): AdaptiveCard {
  const sorted = [...input.policies].sort(byPriority);
  const shown = sorted.slice(0, maxPoliciesShown);
  const body: CardElement[] = [
    ...header('Sendguard', ['Outbound spam policies']),
    subtle(`The first enabled policy that matches a sender applies; the default policy applies to everyone else. As of ${formatUtc(input.now)}.`),
    ...shown.map((p, i) => policySection(p, input.serviceLimits, i === 0)),
  ];
  if (sorted.length > shown.length) body.push(subtle(`and ${sorted.length - shown.length} more policies`, { spacing: 'medium' }));
  return adaptiveCard({
    fallbackText: `Outbound spam policies: ${plural(sorted.length, 'policy', 'policies')}`,
    body,
    actions: [execute(verbs.restrictedList, 'Show restricted users', {})],
    refresh: { view: 'policies' },
    refreshUserIds: input.refreshUserIds,
    fullWidth: true,
  });
}
