import { randomUUID } from 'node:crypto';
import { ActivityTypes, TestAdapter, type Activity } from 'botbuilder';
import { expect } from 'vitest';
import { startGraphQLServer } from '../../api/yoga.ts';
import type { AdaptiveCard, CardAction, ExecuteAction } from '../../bot/cards/adaptive-card.ts';
import type { Connector, RetryOptions } from '../../bot/notices/connector.ts';
import { startBot, type RunningBot } from '../../bot/start-bot.ts';
import type { Services } from '../../cli/services.ts';
import type { Clock } from '../../domain/clock.ts';
import { cardActions } from './cards/card-inspection.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { admin as testAdmin, testServices } from './services.ts';

export const cardContentType = 'application/vnd.microsoft.card.adaptive';

export interface BotHarness {
  database: TestDatabase;
  services: Services;
  bot: RunningBot;
  stop(): Promise<void>;
}

/** No proactive posts happen in TestAdapter flows; a call here is a test failure. */
const noConnector: Connector = {
  post: () => Promise.reject(new Error('unexpected proactive post')),
  update: () => Promise.reject(new Error('unexpected proactive update')),
};

/** The production bot wiring (in-process GraphQL, real database) for TestAdapter flows. */
export async function startBotHarness(
  clock: Clock,
  options: { env?: Record<string, string>; database?: TestDatabase; connector?: Connector; retry?: RetryOptions } = {},
): Promise<BotHarness> {
  const database = options.database ?? (await createTestDatabase());
  const env = options.env ?? {};
  const services = testServices(database, clock, { SENDGUARD_BOT_DEV_NO_AUTH: 'true', ...env });
  const graphql = await startGraphQLServer(services);
  const bot = await startBot(services, { api: { inProcess: (request) => Promise.resolve(graphql.yoga.fetch(request)) }, runsAlerting: true, connector: options.connector ?? noConnector, retry: options.retry });
  return {
    database,
    services,
    bot,
    async stop() {
      await bot.stop();
      graphql.stop();
      await database.close();
    },
  };
}

/** Gives a Teams user (by Entra object id) a Sendguard role in the tenant. */
export async function grantRole(services: Services, tenantId: string, objectId: string, role: string): Promise<void> {
  await services.roles.assign({ tenantId, principalId: objectId, role, actor: testAdmin });
}

/**
 * A personal-chat message from a Teams user, posted as Teams posts it to a running bot's
 * `/api/messages` (`serviceUrl`: where the bot answers). Returns the activity sent.
 */
export async function postTeamsMessage(http: string, o: { tenantId: string; objectId: string; name: string; text: string; serviceUrl: string }): Promise<Record<string, unknown> & { id: string; conversation: { id: string } }> {
  const activity = {
    type: 'message',
    id: randomUUID(),
    text: o.text,
    channelId: 'msteams',
    serviceUrl: o.serviceUrl,
    from: { id: `29:${o.objectId}`, name: o.name, aadObjectId: o.objectId },
    recipient: { id: '28:sendguard-bot', name: 'Sendguard' },
    conversation: { id: `a:${randomUUID()}`, conversationType: 'personal', tenantId: o.tenantId },
    channelData: { tenant: { id: o.tenantId } },
  };
  const res = await fetch(`${http}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  expect(res.status).toBe(200);
  return activity;
}

export interface TeamsUserOptions {
  tenantId: string;
  objectId: string;
  name: string;
  scope?: 'personal' | 'groupChat' | 'channel';
  conversationId?: string;
  channelId?: string;
  serviceUrl?: string;
  /** The team a channel belongs to (`channelData.team.id`, the id of its General channel). */
  teamId?: string;
}

export type Turn = { cards: AdaptiveCard[]; texts: string[]; invoke: { status: number; body: Record<string, unknown> } | undefined };

function teamsChannelData(o: TeamsUserOptions, conversationId: string): Record<string, unknown> {
  const data: Record<string, unknown> = { tenant: { id: o.tenantId } };
  if (o.scope === 'channel') Object.assign(data, { channel: { id: conversationId.split(';')[0] }, team: { id: o.teamId ?? '19:team@thread.tacv2' } });
  return data;
}

/**
 * One person in Teams talking to the bot through botbuilder's TestAdapter: every activity is a
 * Teams activity (`channelId: 'msteams'`, tenant in channelData, the user's aadObjectId).
 */
export function teamsUser(bot: RunningBot, o: TeamsUserOptions) {
  const conversationId = o.conversationId ?? (o.scope === 'channel' ? `19:${randomUUID()}@thread.tacv2` : `a:${randomUUID()}`);
  const adapter = new TestAdapter(bot.handleTurn);
  const base = (): Partial<Activity> => ({
    channelId: o.channelId ?? 'msteams',
    serviceUrl: o.serviceUrl ?? 'https://smba.trafficmanager.net/teams/',
    from: { id: `29:${o.objectId}`, name: o.name, aadObjectId: o.objectId },
    recipient: { id: '28:sendguard-bot', name: 'Sendguard' },
    conversation: { id: conversationId, conversationType: o.scope ?? 'personal', tenantId: o.tenantId, isGroup: (o.scope ?? 'personal') !== 'personal', name: '' },
    channelData: teamsChannelData(o, conversationId),
    id: randomUUID(),
  });

  async function turn(activity: Partial<Activity>): Promise<Turn> {
    adapter.activeQueue.splice(0);
    await adapter.processActivity({ ...base(), ...activity });
    const sent = adapter.activeQueue.splice(0);
    const invoke = sent.find((a) => a.type === ActivityTypes.InvokeResponse)?.value as Turn['invoke'];
    const cards = sent.flatMap((a) => (a.attachments ?? []).filter((x) => x.contentType === cardContentType).map((x) => x.content as AdaptiveCard));
    return { cards, texts: sent.flatMap((a) => (a.type === 'message' && a.text ? [a.text] : [])), invoke };
  }

  return {
    conversationId,
    objectId: o.objectId,
    turn,
    say: (text: string) => turn({ type: ActivityTypes.Message, text }),
    /** Clicks an Action.Execute the way Teams does: its data with the card's input values merged in. */
    async click(action: ExecuteAction, inputs: Record<string, string> = {}): Promise<AdaptiveCard> {
      const result = await turn({ type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: action.verb, data: { ...action.data, ...inputs } }, trigger: 'manual' } });
      expect(result.invoke?.status).toBe(200);
      expect(result.invoke?.body).toMatchObject({ statusCode: 200, type: cardContentType });
      return result.invoke?.body.value as AdaptiveCard;
    },
    /** Sends an Action.Execute invoke with any verb and data (what a forged or stale card would send). */
    invoke: (verb: string, data: unknown, trigger = 'manual') =>
      turn({ type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data }, trigger } }),
    install: () => turn({ type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: '28:sendguard-bot', name: 'Sendguard' }] }),
  };
}

export type TeamsUser = ReturnType<typeof teamsUser>;

/** The Action.Execute behind a button (or a clickable row) with this title. */
export function action(card: AdaptiveCard, title: string): ExecuteAction {
  const found = cardActions(card).find((a: CardAction): a is ExecuteAction => a.type === 'Action.Execute' && a.title === title);
  if (!found) throw new Error(`no "${title}" action; the card has ${cardActions(card).map((a) => a.title).join(', ')}`);
  return found;
}

/** The card's only card (a turn that must answer with exactly one). */
export function onlyCard(turn: Turn): AdaptiveCard {
  expect(turn.cards).toHaveLength(1);
  return turn.cards[0] as AdaptiveCard;
}
