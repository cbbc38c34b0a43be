import { existsSync } from 'node:fs';
import type { ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import { ConfigError } from '../config/config.ts';
import type { Config } from '../config/load-config.ts';

/*
 * The bot's configuration, checked without botbuilder: a process whose bot is not set up (as
 * `npm start` runs before Teams is) never loads it, which spares it some 20 MB of heap.
 */

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

/** Where a bot without the API in its own process sends its GraphQL requests. */
export function remoteApiUrl(bot: Config['bot']): string {
  if (!bot.apiUrl) throw new ConfigError('SENDGUARD_API_URL', 'must be set when the bot runs without the api role in the same process');
  return bot.apiUrl;
}

/**
 * The key a bot split out from the API signs with must be the API's: one generated here would
 * make the API refuse every request the bot sends, so a missing file is a configuration error.
 */
export function checkRemoteSigningKey(config: Config): void {
  const file = config.auth.signingKeyFile;
  if (!existsSync(file)) {
    throw new ConfigError('SENDGUARD_SIGNING_KEY_FILE', `names ${file}, which does not exist: a bot split out from the API signs its requests with the API's key, so point it at the API's key file`);
  }
}

/** The bot's configuration problems as a ConfigError, found before anything starts. */
export function checkBotConfig(config: Config, options: { apiInProcess: boolean }): void {
  botAuthentication(config.env, config.bot);
  if (!options.apiInProcess) {
    remoteApiUrl(config.bot);
    checkRemoteSigningKey(config);
  }
}
