import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import { ConfigError } from '../../config/config.ts';
import type { Config } from '../../config/load-config.ts';
import type { BotLogger } from '../sendguard-bot.ts';

export interface BotAuthentication {
  /** Empty in development without authentication. */
  appId: string;
  options: ConfigurationBotFrameworkAuthenticationOptions;
  /** True when requests are not authenticated (development only). */
  unauthenticated: boolean;
}

function required(value: string | undefined, variable: string, why: string): string {
  if (!value?.trim()) throw new ConfigError(variable, why);
  return value.trim();
}

/**
 * The Bot Framework settings, or a ConfigError naming what is missing. Without an app id the bot
 * runs only with the explicit development flag, and never with NODE_ENV=production.
 */
export function botAuthentication(env: Config['env'], bot: Config['bot']): BotAuthentication {
  if (bot.devNoAuth && env === 'production') throw new ConfigError('SENDGUARD_BOT_DEV_NO_AUTH', 'must be false when NODE_ENV=production');
  if (!bot.appId) {
    if (!bot.devNoAuth) throw new ConfigError('MicrosoftAppId', 'must be set to run the Teams bot (or, in development only, SENDGUARD_BOT_DEV_NO_AUTH=true)');
    return { appId: '', options: { MicrosoftAppType: 'MultiTenant' }, unauthenticated: true };
  }
  const appType = bot.appType;
  const tenantNeeded = appType === 'SingleTenant' || appType === 'UserAssignedMSI';
  const options: ConfigurationBotFrameworkAuthenticationOptions = {
    MicrosoftAppId: bot.appId,
    MicrosoftAppType: appType,
    MicrosoftAppTenantId: tenantNeeded ? required(bot.appTenantId, 'MicrosoftAppTenantId', `must be set for MicrosoftAppType=${appType}`) : bot.appTenantId,
  };
  if (appType === 'UserAssignedMSI') {
    if (bot.appPassword) throw new ConfigError('MicrosoftAppPassword', 'must not be set for MicrosoftAppType=UserAssignedMSI');
  } else {
    options.MicrosoftAppPassword = required(bot.appPassword, 'MicrosoftAppPassword', `must be set for MicrosoftAppType=${appType}`);
  }
  return { appId: bot.appId, options, unauthenticated: false };
}

/** botbuilder's CloudAdapter with Bot Framework authentication from the configuration. */
export function createCloudAdapter(auth: BotAuthentication, logger: BotLogger): CloudAdapter {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(auth.options));
  adapter.onTurnError = async (context, err) => {
    logger.error({ err, activityType: context.activity.type, conversationId: context.activity.conversation?.id }, 'bot turn failed');
  };
  return adapter;
}
