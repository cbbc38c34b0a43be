import type { IncomingData } from '../cards/action-data.ts';
import { errorCard } from '../cards/error-card.ts';
import { unblockResultCard } from '../cards/unblock-result-card.ts';
import { GraphQLForbiddenError } from '../graphql/graphql-client.ts';
import type { ActionHandler } from './action-context.ts';
import { currentRestriction } from './current-restriction.ts';
import { missingAcknowledgements } from './unblock-submit.ts';

/**
 * Yes on the confirmation: the only action that releases a sender. It releases only the
 * restriction the card was built for (the API checks it again in the releasing transaction);
 * a second click finds it released and shows who did it.
 */
export const unblockConfirm: ActionHandler<IncomingData['unblock.confirm']> = async (ctx, data) => {
  const current = await currentRestriction(ctx, data);
  if (!current.ok) return current.released ? errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: data.senderAddress, current: current.user }, now: ctx.now }) : current.card;
  const target = { senderAddress: data.senderAddress, restrictionId: data.restrictionId };
  const missing = missingAcknowledgements(ctx, target, current.details.recommendations, data.acknowledgedRecommendations);
  if (missing) return missing;
  try {
    const outcome = await ctx.api.unblock({ senderAddress: data.senderAddress, restrictionId: data.restrictionId, reason: data.reason, acknowledgedRecommendations: data.acknowledgedRecommendations });
    if (outcome.ok) return unblockResultCard({ user: outcome.user });
    const failure = outcome.failure.kind === 'VALIDATION' ? { ...outcome.failure, retry: target } : outcome.failure;
    return errorCard({ failure, now: ctx.now });
  } catch (err) {
    if (err instanceof GraphQLForbiddenError) return errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'unblock users' }, now: ctx.now });
    throw err;
  }
};
