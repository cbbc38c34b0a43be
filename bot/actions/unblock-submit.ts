import type { IncomingData } from '../cards/action-data.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { confirmUnblockCard } from '../cards/confirm-unblock-card.ts';
import { errorCard } from '../cards/error-card.ts';
import { acknowledgementLabels } from '../cards/format.ts';
import type { Recommendation, RecommendationKind } from '../cards/types.ts';
import type { RestrictionData } from '../cards/verbs.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';
import { currentRestriction, forbiddenToUnblock } from './current-restriction.ts';

/**
 * The required recommendations not acknowledged, as a card; null when all are. The card's toggles
 * insist on them in Teams, and this insists again for clients that skip the card's validation.
 */
export function missingAcknowledgements(
  ctx: ActionContext,
  target: RestrictionData,
  recommendations: readonly Recommendation[],
  acknowledged: readonly RecommendationKind[],
): AdaptiveCard | null {
  const missing = recommendations.filter((r) => r.required && !acknowledged.includes(r.kind));
  if (missing.length === 0) return null;
  const message = `confirm ${missing.map((r) => `"${acknowledgementLabels[r.kind]}"`).join(' and ')} before you unblock`;
  return errorCard({ failure: { kind: 'VALIDATION', field: 'acknowledgedRecommendations', message, retry: { ...target } }, now: ctx.now });
}

/** Submit on the recommendations: checks them and asks for the explicit confirmation. Releases nothing. */
export const unblockSubmit: ActionHandler<IncomingData['unblock.submit']> = async (ctx, data) => {
  const current = await currentRestriction(ctx, data);
  if (!current.ok) return current.card;
  if (!current.details.viewer.canManage) return forbiddenToUnblock(ctx);
  const target = { senderAddress: data.senderAddress, restrictionId: data.restrictionId };
  const missing = missingAcknowledgements(ctx, target, current.details.recommendations, data.acknowledgedRecommendations);
  if (missing) return missing;
  return confirmUnblockCard({ user: current.user, acknowledgedRecommendations: data.acknowledgedRecommendations, reason: data.reason, unblockQuota: current.details.unblockQuota, now: ctx.now });
};
