import type { IncomingData } from '../cards/action-data.ts';
import { errorCard } from '../cards/error-card.ts';
import { recommendationsCard } from '../cards/recommendations-card.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';
import { currentRestriction, forbiddenToUnblock } from './current-restriction.ts';

/** The steps to take before the release, for the restriction the card names. */
export const unblockRecommendations: ActionHandler<IncomingData['unblock.recommendations']> = async (ctx, data) => {
  const current = await currentRestriction(ctx, data);
  if (!current.ok) return current.card;
  if (!current.details.viewer.canManage) return forbiddenToUnblock(ctx);
  return recommendationsCard({ user: current.user, recommendations: current.details.recommendations, unblockQuota: current.details.unblockQuota, now: ctx.now });
};

/** `unblock <address>` typed as a command: the same step for the sender's active restriction. */
export async function unblockByAddress(ctx: ActionContext, senderAddress: string): Promise<AdaptiveCard> {
  const { viewer, user, recommendations, unblockQuota } = await ctx.api.details(senderAddress);
  if (!user || user.status !== 'RESTRICTED') return errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress, current: user }, now: ctx.now });
  if (!viewer.canManage) return forbiddenToUnblock(ctx);
  return recommendationsCard({ user, recommendations, unblockQuota, now: ctx.now });
}
