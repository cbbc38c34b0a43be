import type { IncomingAction } from '../cards/action-data.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import type { ActionContext } from './action-context.ts';
import { cardRefresh } from './card-refresh.ts';
import { helpShow } from './help-show.ts';
import { noticesSubscribe } from './notices-subscribe.ts';
import { noticesUnsubscribe } from './notices-unsubscribe.ts';
import { policiesList } from './policies-list.ts';
import { restrictedList } from './restricted-list.ts';
import { restrictedShow } from './restricted-show.ts';
import { unblockCancel } from './unblock-cancel.ts';
import { unblockConfirm } from './unblock-confirm.ts';
import { unblockRecommendations } from './unblock-recommendations.ts';
import { unblockSubmit } from './unblock-submit.ts';

/** Hands a parsed card action (or a command turned into one) to its verb's handler. */
export function runAction(ctx: ActionContext, action: IncomingAction): Promise<AdaptiveCard> {
  switch (action.verb) {
    case 'help.show':
      return helpShow(ctx, action.data);
    case 'restricted.list':
      return restrictedList(ctx, action.data);
    case 'restricted.show':
      return restrictedShow(ctx, action.data);
    case 'unblock.recommendations':
      return unblockRecommendations(ctx, action.data);
    case 'unblock.submit':
      return unblockSubmit(ctx, action.data);
    case 'unblock.confirm':
      return unblockConfirm(ctx, action.data);
    case 'unblock.cancel':
      return unblockCancel(ctx, action.data);
    case 'policies.list':
      return policiesList(ctx, action.data);
    case 'notices.subscribe':
      return noticesSubscribe(ctx, action.data);
    case 'notices.unsubscribe':
      return noticesUnsubscribe(ctx, action.data);
    case 'card.refresh':
      return cardRefresh(ctx, action.data);
  }
}
