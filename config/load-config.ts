import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError, parseRawConfig, type RawConfig } from './config.ts';

export interface ServiceLimits {
  recipientsPerDay: number;
  externalPerHour: number;
  internalPerHour: number;
  messagesPerMinute: number;
  recipientsPerMessage: number;
}

export interface UnblockQuotaSettings {
  maxReleases: number;
  windowDays: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  dataDir: string;
  databaseUrl: string | undefined;
  /** Connections to PostgreSQL per process; undefined: the default for this machine (db/client.ts). */
  databasePoolSize: number | undefined;
  logLevel: RawConfig['SENDGUARD_LOG_LEVEL'];
  shutdownTimeoutMs: number;
  listen: { host: string; httpPort: number; policyPort: number; smtpPort: number };
  smtpRelay: { enabled: boolean; smarthost: string | undefined; networks: string[]; hostname: string | undefined };
  bootstrapTenant: { id: string; name: string; acceptedDomains: string[] };
  serviceLimits: ServiceLimits;
  unblockQuota: UnblockQuotaSettings;
  alerts: { warningThresholdPercent: number; aggregationSeconds: number; notifySmtpUrl: string | undefined; notifyFrom: string };
  policyServer: { dbErrorAction: 'defer' | 'dunno'; timeoutMs: number; unknownSenderAction: 'dunno' | 'reject'; saslLoginDomain: string | undefined; restrictionCacheMs: number; commit: 'durable' | 'fast'; leaseMs: number };
  scheduler: { expiryIntervalMs: number };
  events: { pollMs: number };
  auth: {
    tokenIssuer: string;
    tokenAudience: string;
    signingKeyFile: string;
    oidc: { issuer: string; audience: string; jwksUrl: string; algorithms: string[] } | undefined;
  };
  /** `graphiql`: serve the bundled GraphiQL page to browsers (never in production). */
  graphql: { maxBodyBytes: number; timeoutMs: number; graphiql: boolean };
  bot: {
    appId: string | undefined;
    appPassword: string | undefined;
    appType: RawConfig['MicrosoftAppType'];
    appTenantId: string | undefined;
    allowedTenants: string[];
    devNoAuth: boolean;
    turnTimeoutMs: number;
    apiUrl: string | undefined;
  };
}

/** Reads the environment (and `.env` in the working directory, which the environment overrides) once. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const dotenvFile = path.join(cwd, '.env');
  const fromFile = existsSync(dotenvFile) ? parseDotenv(readFileSync(dotenvFile)) : {};
  return toConfig(parseRawConfig({ ...fromFile, ...env }), cwd);
}

export function toConfig(raw: RawConfig, cwd = process.cwd()): Config {
  if (raw.SENDGUARD_GRAPHIQL && raw.NODE_ENV === 'production') throw new ConfigError('SENDGUARD_GRAPHIQL', 'must be false when NODE_ENV=production');
  const dataDir = path.resolve(cwd, raw.SENDGUARD_DATA_DIR);
  const oidc = raw.SENDGUARD_OIDC_ISSUER
    ? {
        issuer: raw.SENDGUARD_OIDC_ISSUER,
        audience: raw.SENDGUARD_OIDC_AUDIENCE ?? raw.SENDGUARD_TOKEN_AUDIENCE,
        jwksUrl: raw.SENDGUARD_OIDC_JWKS_URL ?? `${raw.SENDGUARD_OIDC_ISSUER.replace(/\/$/, '')}/discovery/v2.0/keys`,
        algorithms: raw.SENDGUARD_OIDC_ALGORITHMS,
      }
    : undefined;
  return {
    env: raw.NODE_ENV,
    dataDir,
    databaseUrl: raw.DATABASE_URL,
    databasePoolSize: raw.SENDGUARD_DB_POOL_SIZE || undefined,
    logLevel: raw.SENDGUARD_LOG_LEVEL,
    shutdownTimeoutMs: raw.SENDGUARD_SHUTDOWN_TIMEOUT_MS,
    listen: { host: raw.SENDGUARD_HOST, httpPort: raw.SENDGUARD_HTTP_PORT, policyPort: raw.SENDGUARD_POLICY_PORT, smtpPort: raw.SENDGUARD_SMTP_PORT },
    smtpRelay: { enabled: raw.SENDGUARD_SMTP_ENABLED || raw.SENDGUARD_SMARTHOST !== undefined, smarthost: raw.SENDGUARD_SMARTHOST, networks: raw.SENDGUARD_RELAY_NETWORKS, hostname: raw.SENDGUARD_SMTP_HOSTNAME },
    bootstrapTenant: { id: raw.SENDGUARD_TENANT_ID, name: raw.SENDGUARD_TENANT_NAME, acceptedDomains: [...new Set(raw.SENDGUARD_ACCEPTED_DOMAINS)] },
    serviceLimits: {
      recipientsPerDay: raw.SENDGUARD_LIMIT_RECIPIENTS_PER_DAY,
      externalPerHour: raw.SENDGUARD_LIMIT_EXTERNAL_PER_HOUR,
      internalPerHour: raw.SENDGUARD_LIMIT_INTERNAL_PER_HOUR,
      messagesPerMinute: raw.SENDGUARD_LIMIT_MESSAGES_PER_MINUTE,
      recipientsPerMessage: raw.SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE,
    },
    unblockQuota: { maxReleases: raw.SENDGUARD_UNBLOCK_QUOTA, windowDays: raw.SENDGUARD_UNBLOCK_QUOTA_WINDOW_DAYS },
    alerts: {
      warningThresholdPercent: raw.SENDGUARD_WARNING_THRESHOLD_PERCENT,
      aggregationSeconds: raw.SENDGUARD_ALERT_AGGREGATION_SECONDS,
      notifySmtpUrl: raw.SENDGUARD_NOTIFY_SMTP_URL,
      notifyFrom: raw.SENDGUARD_NOTIFY_FROM,
    },
    policyServer: {
      dbErrorAction: raw.SENDGUARD_POLICY_DB_ERROR_ACTION,
      timeoutMs: raw.SENDGUARD_POLICY_TIMEOUT_MS,
      unknownSenderAction: raw.SENDGUARD_POLICY_UNKNOWN_SENDER_ACTION,
      saslLoginDomain: raw.SENDGUARD_SASL_LOGIN_DOMAIN ?? raw.SENDGUARD_ACCEPTED_DOMAINS[0],
      restrictionCacheMs: raw.SENDGUARD_RESTRICTION_CACHE_MS,
      commit: raw.SENDGUARD_POLICY_COMMIT,
      leaseMs: raw.SENDGUARD_POLICY_LEASE_MS,
    },
    scheduler: { expiryIntervalMs: raw.SENDGUARD_EXPIRY_INTERVAL_MS },
    events: { pollMs: raw.SENDGUARD_EVENT_POLL_MS },
    auth: {
      tokenIssuer: raw.SENDGUARD_TOKEN_ISSUER,
      tokenAudience: raw.SENDGUARD_TOKEN_AUDIENCE,
      signingKeyFile: raw.SENDGUARD_SIGNING_KEY_FILE ? path.resolve(cwd, raw.SENDGUARD_SIGNING_KEY_FILE) : path.join(dataDir, 'signing-key.json'),
      oidc,
    },
    graphql: { maxBodyBytes: raw.SENDGUARD_GRAPHQL_MAX_BODY_BYTES, timeoutMs: raw.SENDGUARD_GRAPHQL_TIMEOUT_MS, graphiql: raw.SENDGUARD_GRAPHIQL },
    bot: {
      appId: raw.MicrosoftAppId,
      appPassword: raw.MicrosoftAppPassword,
      appType: raw.MicrosoftAppType,
      appTenantId: raw.MicrosoftAppTenantId,
      allowedTenants: raw.SENDGUARD_BOT_ALLOWED_TENANTS,
      devNoAuth: raw.SENDGUARD_BOT_DEV_NO_AUTH,
      turnTimeoutMs: raw.SENDGUARD_BOT_TURN_TIMEOUT_MS,
      apiUrl: raw.SENDGUARD_API_URL,
    },
  };
}
