import type { TurnContext } from 'botbuilder';
import { loadOrCreateSigningKey, loadSigningKey } from '../api/auth/signing-key.ts';
import type { RouteHandler } from '../api/http-server.ts';
import type { Services } from '../cli/services.ts';
import { isAlertEvent } from '../domain/alerts/alert-events.ts';
import { createNotificationWorker, type NotificationWorker, type TeamsNotificationHook } from '../domain/alerts/notification-worker.ts';
import { createAccessGate } from './access-gate.ts';
import { createBotConnector } from './botbuilder/bot-connector.ts';
import { createCloudAdapter } from './botbuilder/cloud-adapter.ts';
import { botAuthentication, remoteApiUrl } from './bot-config.ts';
import { botMessagesRoute } from './botbuilder/messages-route.ts';
import { botTurnHandler } from './botbuilder/turn-bridge.ts';
import { createConversationStore } from './conversation-store.ts';
import { createBotTokens } from './graphql/bot-tokens.ts';
import { createGraphQLClient, type GraphQLFetch } from './graphql/graphql-client.ts';
import { defaultRetry, type Connector, type RetryOptions } from './notices/connector.ts';
import { createRestrictionNotices, type RestrictionNotices } from './notices/restriction-notices.ts';
import { createTeamsDeliverer } from './notices/teams-deliverer.ts';
import { createSendguardBot } from './sendguard-bot.ts';

/** The API in this process (`yoga.fetch`), or none: then the bot POSTs to `SENDGUARD_API_URL`. */
export interface BotApiAccess {
  inProcess?: GraphQLFetch;
}

export interface RunningBot {
  route: RouteHandler;
  /** The turn handler botbuilder runs for every activity (also what a TestAdapter drives). */
  handleTurn: (context: TurnContext) => Promise<void>;
  /** The Teams channel of the alert notification worker. */
  teams: TeamsNotificationHook;
  notices: RestrictionNotices;
  stop(): Promise<void>;
}

export interface BotOptions {
  api: BotApiAccess;
  /** An alerting process delivers Teams notifications through `teams`; otherwise the bot runs its own worker for them. */
  runsAlerting: boolean;
  /** The connector for proactive posts (tests may hand in their own). */
  connector?: Connector;
  retry?: RetryOptions;
}

/** The path of the API on the in-process yoga instance; no request leaves the process. */
const inProcessUrl = 'http://sendguard.local/graphql';

function graphqlTarget(services: Services, api: BotApiAccess): { fetch: GraphQLFetch; url: string } {
  if (api.inProcess) return { fetch: api.inProcess, url: inProcessUrl };
  return { fetch: (request) => fetch(request), url: remoteApiUrl(services.config.bot) };
}

function notificationWorker(services: Services, teams: TeamsNotificationHook): { worker: NotificationWorker; unsubscribe: () => void } {
  const worker = createNotificationWorker({ db: services.db, clock: services.clock, logger: services.logger, deliverers: { teams: (n, a, signal) => teams.deliverTeams(n, a, signal) } });
  const unsubscribe = services.events.subscribe((event) => {
    if (isAlertEvent(event.type)) worker.wake();
  });
  worker.start();
  return { worker, unsubscribe };
}

/**
 * The Teams bot: `/api/messages` (botbuilder CloudAdapter), its card actions through the GraphQL
 * API as the clicking admin, and restriction notices from the event bus. Refuses to start without
 * Bot Framework credentials unless the development flag is set (and never in production).
 */
export async function startBot(services: Services, options: BotOptions): Promise<RunningBot> {
  const { config, db, clock, logger } = services;
  const auth = botAuthentication(config.env, config.bot);
  const log = logger.child({ component: 'bot' });
  if (auth.unauthenticated) {
    log.warn('the Teams bot runs WITHOUT Bot Framework authentication (SENDGUARD_BOT_DEV_NO_AUTH=true): anyone who reaches /api/messages can act as any Teams user. Development only.');
  }
  // In process the API creates the key if need be; split out, the bot must use the API's (checkBotConfig).
  const key = options.api.inProcess ? await loadOrCreateSigningKey(config.auth.signingKeyFile) : await loadSigningKey(config.auth.signingKeyFile);
  const tokens = createBotTokens({ key, issuer: config.auth.tokenIssuer, audience: config.auth.tokenAudience, botPrincipalId: auth.appId || 'sendguard-bot' });
  const graphql = createGraphQLClient({ ...graphqlTarget(services, options.api), tokens });
  const conversations = createConversationStore({ db, clock });
  const adapter = createCloudAdapter(auth, log);
  const limits = config.serviceLimits;
  const bot = createSendguardBot({
    gate: createAccessGate({ allowedTenants: config.bot.allowedTenants, roles: services.roles }),
    conversations,
    graphql,
    clock,
    serviceLimits: { recipientLimitExternalPerHour: limits.externalPerHour, recipientLimitInternalPerHour: limits.internalPerHour, recipientLimitPerDay: limits.recipientsPerDay },
    logger: log,
    turnTimeoutMs: config.bot.turnTimeoutMs,
  });
  const retry = options.retry ?? defaultRetry;
  const connector = options.connector ?? createBotConnector(adapter, auth.appId);
  const notices = createRestrictionNotices({ db, clock, graphql, connector, logger: log, retry });
  const stopNotices = services.events.subscribe((event) => notices.handle(event));
  notices.start(services.events.lastDeliveredId);
  const teams = createTeamsDeliverer({ conversations, notices, connector, clock, retry });
  const own = options.runsAlerting ? undefined : notificationWorker(services, teams);
  const handleTurn = botTurnHandler(bot);
  return {
    route: botMessagesRoute(adapter, handleTurn),
    handleTurn,
    teams,
    notices,
    async stop() {
      stopNotices();
      own?.unsubscribe();
      await own?.worker.stop();
      await notices.stop();
    },
  };
}
