import type { Clock } from '../domain/clock.ts';
import { settleWithin } from '../domain/deadline.ts';
import { teamsChannelId, type AccessGate } from './access-gate.ts';
import type { ActionContext } from './actions/action-context.ts';
import { runAction } from './actions/run-action.ts';
import { unblockByAddress } from './actions/unblock-recommendations.ts';
import { createAdminApi } from './admin-api.ts';
import { parseCardAction } from './cards/action-data.ts';
import type { AdaptiveCard } from './cards/adaptive-card.ts';
import { errorCard } from './cards/error-card.ts';
import { helpCard } from './cards/help-card.ts';
import { refusalCard } from './cards/refusal-card.ts';
import type { RefusalReason, ServiceLimits } from './cards/types.ts';
import { welcomeCard } from './cards/welcome-card.ts';
import { parseCommand } from './commands.ts';
import type { ConversationStore } from './conversation-store.ts';
import type { TeamsAdmin } from './graphql/bot-tokens.ts';
import { GraphQLForbiddenError, GraphQLInputError, GraphQLRequestError, type GraphQLClient } from './graphql/graphql-client.ts';
import { cardActionInvokeName, noReply, type BotReply, type IncomingActivity } from './incoming-activity.ts';

export interface BotLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SendguardBotDeps {
  gate: AccessGate;
  conversations: ConversationStore;
  graphql: GraphQLClient;
  clock: Clock;
  serviceLimits: ServiceLimits;
  logger: BotLogger;
  /** Longest a turn runs before the bot answers that it did not finish (Teams gives up after 15 s). */
  turnTimeoutMs?: number | undefined;
}

const sorry = 'Sorry, Sendguard could not answer right now. Nothing was changed; try again in a minute.';
// The API gave up waiting on a mutation (SENDGUARD_GRAPHQL_TIMEOUT_MS), or the turn on anything
// (SENDGUARD_BOT_TURN_TIMEOUT_MS): a release may still go through.
const tooSlow = 'Sorry, Sendguard did not finish in time. A change you asked for may still be made: check before trying again.';

function isInstall(activity: IncomingActivity): boolean {
  if (activity.type === 'installationUpdate') return activity.action === 'add';
  return activity.type === 'conversationUpdate' && activity.membersAdded.includes(activity.bot.id);
}

/** The bot left the conversation, or the channel is gone (Teams names the deleted channel, which is the conversation's key). */
function isRemoval(activity: IncomingActivity): boolean {
  if (activity.type === 'installationUpdate') return activity.action === 'remove';
  return activity.type === 'conversationUpdate' && (activity.membersRemoved.includes(activity.bot.id) || activity.eventType === 'channelDeleted' || isTeamGone(activity));
}

const teamGoneEvents = new Set(['teamDeleted', 'teamHardDeleted', 'teamArchived']);

/** The team was deleted, or archived (read-only: the bot can no longer post in it). */
function isTeamGone(activity: IncomingActivity): boolean {
  return activity.eventType !== null && teamGoneEvents.has(activity.eventType);
}

/**
 * What a removal takes away. Teams sends a team's events in the team's own conversation (its
 * General channel): leaving or losing the team takes every channel of it; a deleted channel is only itself.
 */
function removed(activity: IncomingActivity): { teamId: string } | { conversationId: string } {
  const { id, teamId } = activity.conversation;
  return teamId && activity.eventType !== 'channelDeleted' ? { teamId } : { conversationId: id };
}

function isCardAction(activity: IncomingActivity): boolean {
  return activity.type === 'invoke' && activity.name === cardActionInvokeName;
}

/** A polite refusal wherever the user asked for something; silence for background events. */
function refuse(activity: IncomingActivity, reason: RefusalReason): BotReply {
  const card = refusalCard({ reason });
  if (isCardAction(activity)) return { messages: [], invoke: { kind: 'card', card } };
  if (activity.type === 'message' || isInstall(activity)) return { messages: [card], invoke: null };
  return noReply;
}

function cardActionOf(value: unknown): { verb: unknown; data: unknown } {
  const action = typeof value === 'object' && value !== null ? (value as { action?: unknown }).action : undefined;
  if (typeof action !== 'object' || action === null) return { verb: undefined, data: undefined };
  return { verb: (action as { verb?: unknown }).verb, data: (action as { data?: unknown }).data };
}

/**
 * The bot's logic, independent of botbuilder: gate, remember the conversation, then answer a
 * command, a card action (with the next card) or an installation (with the welcome card).
 */
export function createSendguardBot(deps: SendguardBotDeps) {
  const { conversations, logger } = deps;

  function actionContext(activity: IncomingActivity, tenantId: string, admin: TeamsAdmin): ActionContext {
    const key = { tenantId, conversationId: activity.conversation.id };
    return {
      api: createAdminApi(deps.graphql, { tenantId, admin }),
      now: deps.clock.now(),
      scope: activity.conversation.scope,
      botName: activity.bot.name || 'Sendguard',
      adminName: admin.name,
      serviceLimits: deps.serviceLimits,
      notices: {
        async set(subscribed, viewer) {
          const actor = { kind: 'user' as const, id: admin.id, name: viewer.name, roles: viewer.roles, source: 'bot' };
          const { changed } = await conversations.setSubscribed(key, subscribed, actor);
          if (changed) logger.info({ tenantId, conversationId: key.conversationId, subscribed, by: admin.id }, 'restriction notices changed');
          return { changed };
        },
      },
    };
  }

  async function cardFor(ctx: ActionContext, activity: IncomingActivity): Promise<AdaptiveCard> {
    const command = parseCommand(activity.text);
    switch (command.kind) {
      case 'help':
        return helpCard({ scope: ctx.scope, botName: ctx.botName });
      case 'invalid':
        return errorCard({ failure: { kind: 'VALIDATION', field: command.field, message: command.message, retry: null }, now: ctx.now });
      case 'unblock':
        return unblockByAddress(ctx, command.senderAddress);
      case 'action':
        return runAction(ctx, command.action);
    }
  }

  async function answer(ctx: ActionContext, activity: IncomingActivity, created: boolean): Promise<BotReply> {
    if (activity.type === 'message') return { messages: [await cardFor(ctx, activity)], invoke: null };
    if (isCardAction(activity)) {
      const { verb, data } = cardActionOf(activity.value);
      const parsed = parseCardAction(verb, data);
      if (!parsed.ok) return { messages: [], invoke: { kind: 'error', status: 400, message: parsed.message } };
      return { messages: [], invoke: { kind: 'card', card: await runAction(ctx, parsed.action) } };
    }
    if (isInstall(activity) && created) {
      return { messages: [welcomeCard({ scope: ctx.scope, displayName: ctx.scope === 'personal' ? activity.from.name || null : null })], invoke: null };
    }
    return noReply;
  }

  function failed(ctx: ActionContext, activity: IncomingActivity, err: unknown): BotReply {
    if (err instanceof GraphQLForbiddenError) {
      const card = errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'do that' }, now: ctx.now });
      return isCardAction(activity) ? { messages: [], invoke: { kind: 'card', card } } : { messages: [card], invoke: null };
    }
    if (err instanceof GraphQLInputError) {
      // What was typed or sent, not a fault (or a forged card): say what the API found wrong with it.
      logger.warn({ activityType: activity.type, conversationId: activity.conversation.id, reason: err.message }, 'the API refused the input of a turn');
      if (isCardAction(activity)) return { messages: [], invoke: { kind: 'error', status: 400, message: `Sendguard could not use that: ${err.message}. Nothing was changed.` } };
      return { messages: [errorCard({ failure: { kind: 'VALIDATION', field: 'request', message: err.message, retry: null }, now: ctx.now })], invoke: null };
    }
    logger.error({ err, activityType: activity.type, conversationId: activity.conversation.id }, 'bot turn failed');
    const message = err instanceof GraphQLRequestError && err.code === 'TIMEOUT' && err.mutation ? tooSlow : sorry;
    return isCardAction(activity) ? { messages: [], invoke: { kind: 'error', status: 500, message } } : { messages: [message], invoke: null };
  }

  /** Who is asking could not be checked (the database is down): nothing was read, and the admin hears so rather than nothing. */
  function unadmitted(activity: IncomingActivity, err: unknown): BotReply {
    logger.error({ err, activityType: activity.type, conversationId: activity.conversation.id }, 'bot turn failed before it was answered');
    if (isCardAction(activity)) return { messages: [], invoke: { kind: 'error', status: 500, message: sorry } };
    return activity.type === 'message' || isInstall(activity) ? { messages: [sorry], invoke: null } : noReply;
  }

  async function turn(activity: IncomingActivity): Promise<BotReply> {
    if (isRemoval(activity) && activity.channelId === teamsChannelId && activity.tenantId) {
      // Removed from the chat or team, the channel or team deleted or archived: nothing to show, only references to drop.
      const gone = removed(activity);
      const tenantId = await deps.gate.storedTenantId(activity.tenantId);
      if (!tenantId) return noReply;
      if ('teamId' in gone) await conversations.forgetTeam(tenantId, gone.teamId);
      else await conversations.forget(tenantId, gone.conversationId);
      return noReply;
    }
    let admitted: { ctx: ActionContext; created: boolean };
    try {
      const decision = await deps.gate.check(activity);
      if (!decision.allowed) return refuse(activity, decision.reason);
      const { created } = await conversations.remember(decision.tenantId, activity);
      admitted = { ctx: actionContext(activity, decision.tenantId, decision.admin), created };
    } catch (err) {
      return unadmitted(activity, err);
    }
    try {
      return await answer(admitted.ctx, activity, admitted.created);
    } catch (err) {
      return failed(admitted.ctx, activity, err);
    }
  }

  /** What the user sees when the turn runs out of time; a late reply is dropped (replies are returned, not sent, by the turn). */
  function late(activity: IncomingActivity, ms: number): BotReply {
    logger.warn({ activityType: activity.type, conversationId: activity.conversation.id, timeoutMs: ms }, 'bot turn did not finish in time');
    if (isCardAction(activity)) return { messages: [], invoke: { kind: 'error', status: 500, message: tooSlow } };
    return activity.type === 'message' || isInstall(activity) ? { messages: [tooSlow], invoke: null } : noReply;
  }

  return {
    handle(activity: IncomingActivity): Promise<BotReply> {
      const ms = deps.turnTimeoutMs ?? 10_000;
      return settleWithin(turn(activity), ms, () => late(activity, ms));
    },
  };
}

export type SendguardBot = ReturnType<typeof createSendguardBot>;
