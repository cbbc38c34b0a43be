import type { IncomingData } from '../cards/action-data.ts';
import { restrictedListCard } from '../cards/restricted-list-card.ts';
import type { ActionHandler } from './action-context.ts';

/** One page of the Restricted users list, with the search and cursor it was asked with. */
export const restrictedList: ActionHandler<IncomingData['restricted.list']> = async (ctx, data) => {
  const { viewer, page } = await ctx.api.restrictedUsers(data);
  return restrictedListCard({ page, query: data, viewer, now: ctx.now });
};
