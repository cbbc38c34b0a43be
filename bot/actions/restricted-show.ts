import type { IncomingData } from '../cards/action-data.ts';
import { errorCard } from '../cards/error-card.ts';
import { restrictionDetailsCard } from '../cards/restriction-details-card.ts';
import type { ActionHandler } from './action-context.ts';

/** Details of the sender's active (else latest) restriction; a never-restricted address says so. */
export const restrictedShow: ActionHandler<IncomingData['restricted.show']> = async (ctx, data) => {
  const { viewer, user } = await ctx.api.details(data.senderAddress);
  if (!user) return errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: data.senderAddress, current: null }, now: ctx.now });
  return restrictionDetailsCard({ user, viewer, now: ctx.now });
};
