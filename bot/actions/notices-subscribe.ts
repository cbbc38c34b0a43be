import { errorCard } from '../cards/error-card.ts';
import { subscriptionCard } from '../cards/subscription-card.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';

/**
 * Turning notices on or off is a change like any other: the API says whether the admin may
 * manage (a read-only admin gets the same refusal as for an unblock), and the change is audited.
 */
export async function setNotices(ctx: ActionContext, subscribed: boolean) {
  const viewer = await ctx.api.viewer();
  if (!viewer.canManage) return errorCard({ failure: { kind: 'FORBIDDEN', attempted: `turn restriction notices ${subscribed ? 'on' : 'off'}` }, now: ctx.now });
  const { changed } = await ctx.notices.set(subscribed, viewer);
  return subscriptionCard({ scope: ctx.scope, subscribed, changed, by: ctx.adminName });
}

/** Restriction notices in this chat or channel, from now on. */
export const noticesSubscribe: ActionHandler<unknown> = (ctx) => setNotices(ctx, true);
