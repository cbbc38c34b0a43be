import type { AdaptiveCard } from './cards/adaptive-card.ts';
import type { ConversationScope } from './cards/types.ts';

/**
 * An activity as the bot's logic sees it: plain data, independent of botbuilder. The adapter
 * layer (`bot/botbuilder/`) fills it in from a TurnContext, with @mentions of the bot removed.
 */
export interface IncomingActivity {
  type: string;
  /** Invoke name, e.g. `adaptiveCard/action`. */
  name: string | null;
  channelId: string;
  /** Microsoft 365 tenant (`channelData.tenant.id`). */
  tenantId: string | null;
  conversation: {
    /** The key the bot keeps the conversation under: a chat's id, or a channel's id (not a reply thread's). */
    id: string;
    scope: ConversationScope;
    /** A channel's team (`channelData.team.id`, which is also the id of its General channel); null outside teams. */
    teamId: string | null;
  };
  from: { id: string; aadObjectId: string | null; name: string };
  bot: { id: string; name: string };
  /** Message text without mentions of the bot, trimmed. */
  text: string;
  value: unknown;
  membersAdded: string[];
  membersRemoved: string[];
  /** `installationUpdate`: `add`, `remove`, … */
  action: string | null;
  /** Teams' `channelData.eventType` of a `conversationUpdate`: `channelDeleted`, `teamDeleted`, `teamArchived`, … */
  eventType: string | null;
  serviceUrl: string;
  /** Where to post later (a Bot Framework ConversationReference, pointing at the conversation above). */
  reference: Record<string, unknown>;
}

/** What Teams answers an `adaptiveCard/action` invoke with. */
export type InvokeAnswer = { kind: 'card'; card: AdaptiveCard } | { kind: 'error'; status: 400 | 500; message: string };

/** What the bot does in answer to one activity. */
export interface BotReply {
  /** Messages to post in the conversation: cards, or plain text. */
  messages: (AdaptiveCard | string)[];
  invoke: InvokeAnswer | null;
}

export const noReply: BotReply = { messages: [], invoke: null };

export const adaptiveCardContentType = 'application/vnd.microsoft.card.adaptive';
export const cardActionInvokeName = 'adaptiveCard/action';
