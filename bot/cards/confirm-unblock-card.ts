import type { AdaptiveCard, CardElement } from './adaptive-card.ts';
import { adaptiveCard, execute, header, run, runs, subtle, text } from './card-elements.ts';
import { acknowledgementLabels, truncate } from './format.ts';
import { noLongerRestrictedCard } from './restriction-details-card.ts';
import type { RecommendationKind, RestrictedUser, UnblockQuota } from './types.ts';
import { quotaReached, quotaRefusal, refusingQuota, secondApprovalNotice } from './unblock-quota.ts';
import { verbs, type UnblockConfirmData } from './verbs.ts';

export interface ConfirmUnblockCardInput {
  user: Pick<RestrictedUser, 'id' | 'senderAddress' | 'status' | 'changedAt' | 'releases'>;
  acknowledgedRecommendations: readonly RecommendationKind[];
  reason: string;
  unblockQuota: UnblockQuota | null;
  now: Date;
  refreshUserIds?: readonly string[];
}

function confirmedSteps(kinds: readonly RecommendationKind[]): CardElement[] {
  if (kinds.length === 0) return [subtle('You confirmed no recommendations.')];
  return [text('You confirmed:', { spacing: 'medium', weight: 'bolder' }), text(kinds.map((k) => `- ${acknowledgementLabels[k]}`).join('\n'), { spacing: 'small' })];
}

function quotaLine(quota: UnblockQuota | null): CardElement[] {
  if (!quota) return [];
  if (quotaReached(quota)) return [secondApprovalNotice(quota)];
  return [subtle(`This is release ${quota.releasesInWindow + 1} of at most ${quota.maxReleases} in ${quota.windowDays} days for this sender.`, { spacing: 'medium' })];
}

/** Past the quota with no second approval: the API would refuse Yes, so there is none. */
function quotaReachedCard(input: ConfirmUnblockCardInput, quota: UnblockQuota, data: UnblockConfirmData): AdaptiveCard {
  const { user } = input;
  return adaptiveCard({
    fallbackText: `${user.senderAddress} can't be unblocked yet.`,
    body: [...header('Unblock user · Confirm', [user.senderAddress, " can't be unblocked yet"]), ...quotaRefusal(quota, input.now)],
    actions: [execute(verbs.restrictedShow, 'Show details', { senderAddress: user.senderAddress })],
    // Refreshed, the card asks again once the quota resets.
    refresh: { view: 'unblock.confirm', ...data },
    refreshUserIds: input.refreshUserIds,
  });
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
  const refusing = refusingQuota(input.unblockQuota);
  if (refusing) return quotaReachedCard(input, refusing, data);
  const reason = input.reason ? [run('Reason: '), run(truncate(input.reason, 400), { italic: true })] : [run('No reason given.', { isSubtle: true })];
  return adaptiveCard({
    fallbackText: `Unblock ${user.senderAddress}?`,
    body: [
      ...header('Unblock user · Confirm', ['Unblock ', user.senderAddress, '?']),
      runs([`${user.senderAddress} will be able to send email again within a second of ${quotaReached(input.unblockQuota) ? "the second admin's" : 'your'} confirmation.`], { spacing: 'small' }),
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
