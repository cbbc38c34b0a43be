import type { ActionHandler } from './action-context.ts';
import { setNotices } from './notices-subscribe.ts';

/** No more restriction notices in this chat or channel; posted ones stay and keep updating. */
export const noticesUnsubscribe: ActionHandler<unknown> = (ctx) => setNotices(ctx, false);
