import type { AdaptiveCard, CardElement } from './adaptive-card.ts';
import { adaptiveCard, execute, header, run, runs, subtle, text } from './card-elements.ts';
import { acknowledgementLabels, truncate } from './format.ts';
import { noLongerRestrictedCard } from './restriction-details-card.ts';
import type { RecommendationKind, RestrictedUser, UnblockQuota } from './types.ts';
import { verbs, type UnblockConfirmData } from './verbs.ts';

export interface ConfirmUnblockCardInput {
  user: Pick<RestrictedUser, 'id' | 'senderAddress' | 'status' | 'changedAt' | 'releases'>;
  acknowledgedRecommendations: readonly RecommendationKind[];
  reason: string;
  unblockQuota: UnblockQuota | null;
  refreshUserIds?: readonly string[];
}

function confirmedSteps(kinds: readonly RecommendationKind[]): CardElement[] {
  if (kinds.length === 0) return [subtle('You confirmed no recommendations.')];
  return [text('You confirmed:', { spacing: 'medium', weight: 'bolder' }), text(kinds.map((k) => `- ${acknowledgementLabels[k]}`).join('\n'), { spacing: 'small' })];
}

function quotaLine(quota: UnblockQuota | null): CardElement[] {
  if (!quota) return [];
  return [subtle(`This is release ${quota.releasesInWindow + 1} of at most ${quota.maxReleases} in ${quota.windowDays} days for this sender.`, { spacing: 'medium' })];
}

/** "Unblock <address>?" with Yes / Cancel; Yes is the only action that releases a sender. */
export function confirmUnblockCard(input: ConfirmUnblockCardInput): AdaptiveCard {
  const { user } = input;
  if (user.status !== 'RESTRICTED') return noLongerRestrictedCard(user);
  const data: UnblockConfirmData = {
    senderAddress: user.senderAddress,
    restrictionId: user.id,
    acknowledgedRecommendations: [...input.acknowledgedRecommendations],
    reason: input.reason,
  };
  const reason = input.reason ? [run('Reason: '), run(truncate(input.reason, 400), { italic: true })] : [run('No reason given.', { isSubtle: true })];
  return adaptiveCard({
    fallbackText: `Unblock ${user.senderAddress}?`,
    body: [
      ...header('Unblock user · Confirm', ['Unblock ', user.senderAddress, '?']),
      runs([`${user.senderAddress} will be able to send email again within a second of your confirmation.`], { spacing: 'small' }),
      ...confirmedSteps(input.acknowledgedRecommendations),
      runs(reason, { spacing: 'medium' }),
      ...quotaLine(input.unblockQuota),
    ],
    actions: [
      execute(verbs.unblockConfirm, 'Yes', data, { style: 'positive', associatedInputs: 'none' }),
      execute(verbs.unblockCancel, 'Cancel', { senderAddress: user.senderAddress }, { associatedInputs: 'none' }),
    ],
    refresh: { view: 'unblock.confirm', ...data },
    refreshUserIds: input.refreshUserIds,
  });
}
