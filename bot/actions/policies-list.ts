import { policiesCard } from '../cards/policies-card.ts';
import type { ActionHandler } from './action-context.ts';

/** The outbound spam policies in the order they apply. */
export const policiesList: ActionHandler<unknown> = async (ctx) => {
  const { policies } = await ctx.api.policies();
  return policiesCard({ policies, serviceLimits: ctx.serviceLimits, now: ctx.now });
};
