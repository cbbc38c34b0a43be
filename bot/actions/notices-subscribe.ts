import { subscriptionCard } from '../cards/subscription-card.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';

export async function setNotices(ctx: ActionContext, subscribed: boolean) {
  const { changed } = await ctx.notices.set(subscribed);
  return subscriptionCard({ scope: ctx.scope, subscribed, changed, by: ctx.adminName });
}

/** Restriction notices in this chat or channel, from now on. */
export const noticesSubscribe: ActionHandler<unknown> = (ctx) => setNotices(ctx, true);
