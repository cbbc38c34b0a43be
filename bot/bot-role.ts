import type { RouteHandler } from '../api/http-server.ts';
import type { Services } from '../cli/services.ts';
import { ConfigError } from '../config/config.ts';
import type { TeamsNotificationHook } from '../domain/alerts/notification-worker.ts';
import { checkBotConfig } from './bot-config.ts';
import { botUnavailableRoute } from './botbuilder/messages-route.ts';
import type { BotOptions } from './start-bot.ts';

export { botMessagesPath } from './botbuilder/messages-route.ts';

export interface BotRole {
  route: RouteHandler;
  teams: TeamsNotificationHook | undefined;
  stop(): Promise<void>;
}

/**
 * The bot as a `serve` role. Asked for by name (`--only bot`), a bot that cannot start stops the
 * process; started with every role by default, it is left out with the reason logged, and
 * `/api/messages` answers 503 with that reason, so `npm start` works before Teams is set up.
 */
export async function startBotRole(services: Services, options: BotOptions & { requested: boolean }): Promise<BotRole> {
  try {
    // The configuration first: botbuilder and the bot's modules load only for a bot that can start.
    checkBotConfig(services.config, { apiInProcess: options.api.inProcess !== undefined });
    const { startBot } = await import('./start-bot.ts');
    return await startBot(services, options);
  } catch (err) {
    if (!(err instanceof ConfigError) || options.requested) throw err;
    services.logger.warn({ component: 'bot', variable: err.variable }, `Teams bot not started: ${err.message}`);
    return { route: botUnavailableRoute(err.message), teams: undefined, stop: async () => undefined };
  }
}
