import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import type { BotAuthentication } from '../bot-config.ts';
import type { BotLogger } from '../sendguard-bot.ts';

/** botbuilder's CloudAdapter with Bot Framework authentication from the configuration. */
export function createCloudAdapter(auth: BotAuthentication, logger: BotLogger): CloudAdapter {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(auth.options));
  adapter.onTurnError = async (context, err) => {
    logger.error({ err, activityType: context.activity.type, conversationId: context.activity.conversation?.id }, 'bot turn failed');
  };
  return adapter;
}
