import type { IncomingData } from '../cards/action-data.ts';
import type { ActionHandler } from './action-context.ts';
import { restrictedShow } from './restricted-show.ts';

/** Cancel anywhere in the wizard: back to the sender's details, nothing changed. */
export const unblockCancel: ActionHandler<IncomingData['unblock.cancel']> = (ctx, data) => restrictedShow(ctx, data);
