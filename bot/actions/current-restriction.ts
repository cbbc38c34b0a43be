import type { UserDetails } from '../admin-api.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { errorCard } from '../cards/error-card.ts';
import { noLongerRestrictedCard } from '../cards/restriction-details-card.ts';
import type { RestrictedUser } from '../cards/types.ts';
import type { RestrictionData } from '../cards/verbs.ts';
import type { ActionContext } from './action-context.ts';

export type CurrentRestriction = { ok: true; user: RestrictedUser; details: UserDetails } | { ok: false; card: AdaptiveCard; user: RestrictedUser | null };

/**
 * The restriction a wizard card was built for, if it is still the sender's active one. A card
 * released elsewhere, or clicked twice, gets the current state instead of acting on it; a sender
 * restricted again since gets the not-restricted card that points at the new restriction.
 */
export async function currentRestriction(ctx: ActionContext, data: RestrictionData): Promise<CurrentRestriction> {
  const details = await ctx.api.details(data.senderAddress);
  const { user } = details;
  if (user && user.status === 'RESTRICTED' && user.id === data.restrictionId) return { ok: true, user, details };
  if (user && user.status !== 'RESTRICTED') return { ok: false, card: noLongerRestrictedCard(user), user };
  return { ok: false, card: errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: data.senderAddress, current: user }, now: ctx.now }), user };
}

/** Read-only admins are told before they start; the API refuses the release anyway. */
export function forbiddenToUnblock(ctx: ActionContext): AdaptiveCard {
  return errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'unblock users' }, now: ctx.now });
}
