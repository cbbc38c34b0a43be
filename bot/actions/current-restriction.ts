import type { UserDetails } from '../admin-api.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { errorCard } from '../cards/error-card.ts';
import { noLongerRestrictedCard } from '../cards/restriction-details-card.ts';
import type { RestrictedUser } from '../cards/types.ts';
import type { RestrictionData } from '../cards/verbs.ts';
import { restrictionRowId } from '../graphql/restriction-query.ts';
import type { ActionContext } from './action-context.ts';

export type CurrentRestriction =
  | { ok: true; user: RestrictedUser; details: UserDetails }
  /** `released`: the sender is restricted no more (the card is stale, nothing else is wrong with it). */
  | { ok: false; card: AdaptiveCard; user: RestrictedUser | null; released: boolean };

/**
 * Whether the card's restriction id is one of the sender's restrictions: the active or a recent
 * one from the details, else asked of the API (history lists only the latest few).
 */
async function isRestrictionOf(ctx: ActionContext, user: RestrictedUser | null, data: RestrictionData): Promise<boolean> {
  if (!user || restrictionRowId(data.restrictionId) === null) return false;
  if (user.id === data.restrictionId || user.history.some((h) => h.id === data.restrictionId)) return true;
  const named = await ctx.api.restriction(data.restrictionId);
  return named?.senderAddress === user.senderAddress;
}

/**
 * The restriction a wizard card was built for, if it is still the sender's active one. A card
 * released elsewhere, or clicked twice, gets the current state instead of acting on it; a sender
 * restricted again since gets a card that points at the new restriction; a restriction id that is
 * not the sender's (a forged or corrupted card) gets a validation error.
 */
export async function currentRestriction(ctx: ActionContext, data: RestrictionData): Promise<CurrentRestriction> {
  const details = await ctx.api.details(data.senderAddress);
  const { user } = details;
  if (user && user.status === 'RESTRICTED' && user.id === data.restrictionId) return { ok: true, user, details };
  if (!(await isRestrictionOf(ctx, user, data))) return { ok: false, card: notARestrictionOf(ctx, data.senderAddress), user, released: false };
  if (user && user.status !== 'RESTRICTED') return { ok: false, card: noLongerRestrictedCard(user), user, released: true };
  return { ok: false, card: errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: data.senderAddress, current: user }, now: ctx.now }), user, released: false };
}

/** A card naming a restriction that is not the sender's (a forged or corrupted card): a validation error, nothing shown of it. */
export function notARestrictionOf(ctx: ActionContext, senderAddress: string): AdaptiveCard {
  const message = `is not the id of a restriction of ${senderAddress}`;
  return errorCard({ failure: { kind: 'VALIDATION', field: 'restrictionId', message, retry: null }, now: ctx.now });
}

/** Read-only admins are told before they start; the API refuses the release anyway. */
export function forbiddenToUnblock(ctx: ActionContext): AdaptiveCard {
  return errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'unblock users' }, now: ctx.now });
}
