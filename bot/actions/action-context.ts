import type { AdminApi } from '../admin-api.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import type { ConversationScope, ServiceLimits } from '../cards/types.ts';

/** Turning restriction notices on or off for the conversation the admin is in. */
export interface NoticeSubscription {
  set(subscribed: boolean): Promise<{ changed: boolean }>;
}

/** What a card action handler may use: the API as the clicking admin, and where it runs. */
export interface ActionContext {
  api: AdminApi;
  now: Date;
  scope: ConversationScope;
  botName: string;
  adminName: string;
  notices: NoticeSubscription;
  /** The deployment's service limits, which a policy's 0 stands for. */
  serviceLimits: ServiceLimits;
}

export type ActionHandler<TData> = (ctx: ActionContext, data: TData) => Promise<AdaptiveCard>;
