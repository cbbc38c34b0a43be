import type { AdminApi } from '../admin-api.ts';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import type { ConversationScope, ServiceLimits } from '../cards/types.ts';
import type { AdminViewer } from '../graphql/viewer-query.ts';

/** Turning restriction notices on or off for the conversation the admin is in, audited as that admin. */
export interface NoticeSubscription {
  /** Only for an admin the API lets manage; `admin` is how the API named them and their roles. */
  set(subscribed: boolean, admin: AdminViewer): Promise<{ changed: boolean }>;
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
