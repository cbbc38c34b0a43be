import type { Db } from '../db/client.ts';
import {
  deleteConversation,
  findConversation,
  listSubscribedConversations,
  setConversationSubscribed,
  upsertConversation,
  type TeamsConversation,
} from '../db/repos/teams-conversations.ts';
import type { Clock } from '../domain/clock.ts';
import type { IncomingActivity } from './incoming-activity.ts';

const conversationTypes = { personal: 'personal', groupChat: 'groupChat', team: 'channel' } as const;

/** Where the bot may post later: conversation references, kept in the database on every activity. */
export function createConversationStore(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  return {
    /** Records (or refreshes) the conversation's reference; says whether the bot just met it. */
    remember(tenantId: string, activity: IncomingActivity): Promise<{ created: boolean }> {
      return upsertConversation(db, {
        tenantId,
        conversationId: activity.conversation.id,
        conversationType: conversationTypes[activity.conversation.scope],
        serviceUrl: activity.serviceUrl,
        reference: activity.reference,
        at: clock.now(),
      });
    },
    forget: (tenantId: string, conversationId: string) => deleteConversation(db, tenantId, conversationId),
    find: (tenantId: string, conversationId: string) => findConversation(db, tenantId, conversationId),
    subscribed: (tenantId: string): Promise<TeamsConversation[]> => listSubscribedConversations(db, tenantId),
    async setSubscribed(key: { tenantId: string; conversationId: string }, subscribed: boolean, by: string): Promise<boolean> {
      const row = await setConversationSubscribed(db, key, { subscribed, by: subscribed ? by : null, at: clock.now() });
      return row !== undefined;
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
