import type { AdaptiveCard } from './adaptive-card.ts';
import { adaptiveCard, callout, execute, facts, header, run, runs, subtle, type CardOptions } from './card-elements.ts';
import { describeLimit, formatCount, formatRelative, formatUtc, reasonCodeLabels, truncate } from './format.ts';
import { releasedState } from './restriction-details-card.ts';
import type { RestrictedUser } from './types.ts';
import { verbs } from './verbs.ts';

export type NoticeUser = Omit<RestrictedUser, 'history'>;

export interface RestrictionNoticeCardInput {
  user: NoticeUser;
  now: Date;
  refreshUserIds?: readonly string[];
}

function restrictedNotice(user: NoticeUser, now: Date): Pick<CardOptions, 'fallbackText' | 'body' | 'actions'> {
  const block = user.temporary && user.expiresAt ? `Temporary, lifts at ${formatUtc(user.expiresAt)} (${formatRelative(user.expiresAt, now)})` : 'Until an admin releases it';
  return {
    fallbackText: `User restricted from sending email: ${user.senderAddress}. ${user.reason}`,
    body: [
      ...header('User restricted from sending email', [user.senderAddress, ' was restricted']),
      runs([run(truncate(user.reason, 400))], { spacing: 'small' }),
      facts([
        ['Reason', reasonCodeLabels[user.reasonCode]],
        ['Limit exceeded', describeLimit(user.exceededLimit, user.limitValue)],
        ['Internal recipients', formatCount(user.internalRecipientCount)],
        ['External recipients', formatCount(user.externalRecipientCount)],
        ['Policy', user.policyName],
        ['Restricted', `${formatUtc(user.restrictedAt)} (${formatRelative(user.restrictedAt, now)})`],
        ['Block', block],
      ]),
      subtle('They can still receive email. Review the account before you unblock it: exceeding a sending limit is an indicator of a compromised account.', { spacing: 'medium' }),
    ],
    actions: [execute(verbs.restrictedShow, 'Review and unblock', { senderAddress: user.senderAddress }, { style: 'positive' })],
  };
}

function releasedNotice(user: NoticeUser): Pick<CardOptions, 'fallbackText' | 'body' | 'actions'> {
  return {
    fallbackText: `${user.senderAddress} can send email again.`,
    body: [
      ...header('User restricted from sending email', [user.senderAddress, user.status === 'EXPIRED' ? ' is no longer restricted' : ' was released']),
      callout('good', releasedState(user)),
    ],
    actions: [execute(verbs.restrictedShow, 'Show details', { senderAddress: user.senderAddress })],
  };
}

/**
 * Posted to subscribed chats and channels when a user is restricted; rebuilt from the same
 * restriction when it is released or expires, so posted notices show the current state.
 */
export function restrictionNoticeCard(input: RestrictionNoticeCardInput): AdaptiveCard {
  const { user } = input;
  const parts = user.status === 'RESTRICTED' ? restrictedNotice(user, input.now) : releasedNotice(user);
  return adaptiveCard({
    ...parts,
    refresh: { view: 'restriction.notice', senderAddress: user.senderAddress, restrictionId: user.id },
    refreshUserIds: input.refreshUserIds,
  });
}
