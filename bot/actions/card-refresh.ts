import type { IncomingData } from '../cards/action-data.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { confirmUnblockCard } from '../cards/confirm-unblock-card.ts';
import { restrictionNoticeCard } from '../cards/restriction-notice-card.ts';
import type { RestrictionData } from '../cards/verbs.ts';
import { restrictionRowId } from '../graphql/restriction-query.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';
import { currentRestriction, forbiddenToUnblock, notARestrictionOf } from './current-restriction.ts';
import { policiesList } from './policies-list.ts';
import { restrictedList } from './restricted-list.ts';
import { restrictedShow } from './restricted-show.ts';
import { unblockRecommendations } from './unblock-recommendations.ts';

/** A notice shows the one restriction it was posted for, and only if that restriction is the card's sender's. */
async function restrictionNotice(ctx: ActionContext, data: RestrictionData): Promise<AdaptiveCard> {
  const user = restrictionRowId(data.restrictionId) === null ? null : await ctx.api.restriction(data.restrictionId);
  if (!user || user.senderAddress.toLowerCase() !== data.senderAddress.toLowerCase()) return notARestrictionOf(ctx, data.senderAddress);
  return restrictionNoticeCard({ user, now: ctx.now });
}

/**
 * Teams asks for the current version of a card whenever someone looks at it. Each view is
 * rebuilt from current data as the person looking; a refresh never changes anything.
 */
export const cardRefresh: ActionHandler<IncomingData['card.refresh']> = async (ctx, data): Promise<AdaptiveCard> => {
  switch (data.view) {
    case 'restricted.list':
      return restrictedList(ctx, { search: data.search, after: data.after, before: data.before });
    case 'restriction.details':
      return restrictedShow(ctx, { senderAddress: data.senderAddress });
    case 'unblock.recommendations':
      return unblockRecommendations(ctx, { senderAddress: data.senderAddress, restrictionId: data.restrictionId });
    case 'unblock.confirm': {
      const current = await currentRestriction(ctx, data);
      if (!current.ok) return current.card;
      if (!current.details.viewer.canManage) return forbiddenToUnblock(ctx);
      return confirmUnblockCard({ user: current.user, acknowledgedRecommendations: data.acknowledgedRecommendations, reason: data.reason, unblockQuota: current.details.unblockQuota, now: ctx.now });
    }
    case 'restriction.notice':
      return restrictionNotice(ctx, data);
    case 'policies':
      return policiesList(ctx, {});
  }
};
