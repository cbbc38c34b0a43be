import type { Db } from '../db/client.ts';
import { deleteConversation, deleteTeamConversations, findConversation, setConversationSubscribed, upsertConversation } from '../db/repos/teams-conversations.ts';
import type { Actor } from '../domain/actor.ts';
import { recordAudit } from '../domain/audit/record-audit.ts';
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
        teamId: activity.conversation.teamId,
        serviceUrl: activity.serviceUrl,
        reference: activity.reference,
        at: clock.now(),
      });
    },
    forget: (tenantId: string, conversationId: string) => deleteConversation(db, tenantId, conversationId),
    /** Forgets every channel of a team the bot left (or that was deleted or archived), with their subscriptions. */
    forgetTeam: (tenantId: string, teamId: string) => deleteTeamConversations(db, tenantId, teamId),
    find: (tenantId: string, conversationId: string) => findConversation(db, tenantId, conversationId),
    /**
     * Turns restriction notices on or off, with the audit record in the same transaction; the row
     * lock makes two admins clicking at once one change and one "nothing changed".
     */
    setSubscribed(key: { tenantId: string; conversationId: string }, subscribed: boolean, actor: Actor): Promise<{ changed: boolean }> {
      return db.transaction(async (tx) => {
        const before = await findConversation(tx, key.tenantId, key.conversationId, { forUpdate: true });
        if (!before || before.subscribed === subscribed) return { changed: false };
        const at = clock.now();
        await setConversationSubscribed(tx, key, { subscribed, by: subscribed ? actor.id : null, at });
        await recordAudit(tx, {
          tenantId: key.tenantId,
          actor,
          action: 'Set-TeamsRestrictionNotices',
          targetKind: 'teamsConversation',
          target: key.conversationId,
          before: { subscribed: before.subscribed },
          after: { subscribed },
          details: { conversationType: before.conversationType },
          at,
        });
        return { changed: true };
      });
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
