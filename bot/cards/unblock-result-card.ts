import type { AdaptiveCard, CardElement } from './adaptive-card.ts';
import { adaptiveCard, callout, execute, header, run, runs, text } from './card-elements.ts';
import { acknowledgementLabels, formatUtc, truncate } from './format.ts';
import { latestRelease } from './restriction-details-card.ts';
import type { Release, RestrictedUser } from './types.ts';
import { verbs } from './verbs.ts';

export interface UnblockResultCardInput {
  /** The released user as the unblock mutation returned it. */
  user: Pick<RestrictedUser, 'senderAddress' | 'releases'>;
}

function releaseDetails(release: Release): CardElement[] {
  const steps = release.acknowledgedRecommendations.map((k) => `- ${acknowledgementLabels[k]}`);
  return [
    ...(steps.length ? [text('Steps confirmed:', { weight: 'bolder', spacing: 'medium' }), text(steps.join('\n'), { spacing: 'small' })] : []),
    ...(release.reason ? [runs([run('Reason: '), run(truncate(release.reason, 400), { italic: true })], { spacing: 'medium' })] : []),
  ];
}

/** "Released by <admin> at <time>; sending works again within a second." */
export function unblockResultCard(input: UnblockResultCardInput): AdaptiveCard {
  const release = latestRelease(input.user.releases);
  if (!release) throw new Error(`no release recorded for ${input.user.senderAddress}`);
  const line = `Released by ${release.releasedBy} at ${formatUtc(release.releasedAt)}; sending works again within a second.`;
  return adaptiveCard({
    fallbackText: `${input.user.senderAddress} is unblocked. ${line}`,
    body: [
      ...header('Unblock user · Done', [input.user.senderAddress, ' is unblocked']),
      callout('good', [runs([line])]),
      ...releaseDetails(release),
      text('The release is in the audit log. Messages that were refused while the user was restricted are not resent; ask the user to send them again.', {
        size: 'small',
        isSubtle: true,
        spacing: 'medium',
      }),
    ],
    actions: [execute(verbs.restrictedList, 'Back to restricted users', {}, { associatedInputs: 'none' })],
  });
}
