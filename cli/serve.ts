import type http from 'node:http';
import { closeServer, createHttpServer, listen, type RouteHandler } from '../api/http-server.ts';
import { createMetrics } from '../api/metrics.ts';
import { ConfigError } from '../config/config.ts';
import { databaseUnavailable } from './start-errors.ts';
import type { Config } from '../config/load-config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { countActiveByKind } from '../db/repos/restrictions.ts';
import { systemClock, type Clock } from '../domain/clock.ts';
import { createHistoryPruner } from '../domain/enforcement/history-pruner.ts';
import { ValidationError } from '../domain/restrictions/errors.ts';
import { provisionTenant } from '../domain/tenants/provision-tenant.ts';
import { startPolicyServer } from '../mail/policy-server/start-policy-server.ts';
import { startAlerting } from './alerting.ts';
import { createLogger, type Logger } from './logger.ts';
import { createServices, type Services } from './services.ts';

import { roles, type Role } from './roles.ts';

export { roles, type Role };

export interface RunningSendguard {
  services: Services;
  urls: Partial<Record<'http' | 'policy' | 'smtp', string>>;
  stop(): Promise<void>;
  /** While `stop()` runs: the part it is waiting for. */
  readonly stopping: string | undefined;
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

const fileSystemErrors = new Set(['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENOSPC']);

/** The database `config` names; an embedded one that cannot be made in the data dir names the setting, not a stack trace. */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  try {
    return await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, maxConnections: config.databasePoolSize });
  } catch (err) {
    if (config.databaseUrl) throw databaseUnavailable(config.databaseUrl, err) ?? err;
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (!code || !fileSystemErrors.has(code)) throw err;
    throw new ConfigError('SENDGUARD_DATA_DIR', `cannot hold the embedded database: ${config.dataDir} is not a directory that can be made or written (${code})`);
  }
}

export async function openAndSeed(config: Config, logger: Logger, existing?: Database): Promise<Database> {
  const database = existing ?? (await openConfiguredDatabase(config));
  const seeded = await provisionTenant(database.db, config.bootstrapTenant, { warningThresholdPercent: config.alerts.warningThresholdPercent }).catch(async (err: unknown) => {
    if (!(err instanceof ValidationError)) throw err;
    if (!existing) await database.close();
    throw new ConfigError('SENDGUARD_ACCEPTED_DOMAINS', `is not valid: ${err.message}`);
  });
  if (seeded.created) logger.info({ tenant: config.bootstrapTenant.id }, 'bootstrap tenant created');
  return database;
}

type PortSetting = 'SENDGUARD_HTTP_PORT' | 'SENDGUARD_POLICY_PORT' | 'SENDGUARD_SMTP_PORT';

/** Why a listener could not open, as the setting to change: the host or the port. */
function listenError(err: unknown, variable: PortSetting, host: string, port: number): ConfigError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new ConfigError(variable, `is in use: another process listens on ${host}:${port}`);
  if (code === 'EACCES') return new ConfigError(variable, `is not open to this user: ${port} on ${host} needs privileges`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new ConfigError('SENDGUARD_HOST', `is not an address of this machine: ${host}`);
  }
  return undefined;
}

/** Opens a listener; one that cannot open names the setting to change, instead of a stack trace. */
async function listening<T>(config: Config, variable: PortSetting, open: () => Promise<T>): Promise<T> {
  const port = { SENDGUARD_HTTP_PORT: config.listen.httpPort, SENDGUARD_POLICY_PORT: config.listen.policyPort, SENDGUARD_SMTP_PORT: config.listen.smtpPort }[variable];
  try {
    return await open();
  } catch (err) {
    throw listenError(err, variable, config.listen.host, port) ?? err;
  }
}

async function startHttp(services: Services, metrics: ReturnType<typeof createMetrics>, routes: Record<string, RouteHandler>): Promise<{ server: http.Server; url: string }> {
  const { config, database, logger } = services;
  const server = createHttpServer({ routes, ready: () => database.ping(), metrics, logger });
  const address = await listening(config, 'SENDGUARD_HTTP_PORT', () => listen(server, config.listen.httpPort, config.listen.host));
  return { server, url: `http://${config.listen.host}:${address.port}` };
}

/** The composition root: opens the database, wires the services and starts the requested roles. */
/** `database`: an already-open database (tests); the caller keeps it open after `stop()`. */
export async function startSendguard(
  config: Config,
  options: { roles?: readonly Role[]; clock?: Clock; logger?: Logger; database?: Database } = {},
): Promise<RunningSendguard> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const active = new Set(options.roles ?? roles);
  const database = await openAndSeed(config, logger, options.database);
  const services = createServices({ config, database, clock: options.clock ?? systemClock, logger });
  const metrics = createMetrics();
  const stoppables: Stoppable[] = [];
  const urls: RunningSendguard['urls'] = {};

  await services.events.start();
  services.events.subscribe((e) => metrics.eventsDelivered.inc({ type: e.type }));
  services.expiry.start();
  stoppables.push({ name: 'expiry', stop: () => services.expiry.stop() });

  const routes: Record<string, RouteHandler> = {};
  // Roles load their modules only when they run, so a policy-only process stays small.
  const yoga = active.has('api') ? await import('../api/yoga.ts') : undefined;
  const graphql = yoga ? await yoga.startGraphQLServer(services) : undefined;
  if (yoga && graphql) routes[yoga.GRAPHQL_PATH] = graphql.handle;
  const botRole = active.has('bot') ? await import('../bot/bot-role.ts') : undefined;
  const bot = botRole
    ? await botRole.startBotRole(services, { api: { inProcess: graphql && ((request) => Promise.resolve(graphql.yoga.fetch(request))) }, runsAlerting: active.has('api'), requested: options.roles !== undefined })
    : undefined;
  if (bot && botRole) {
    routes[botRole.botMessagesPath] = bot.route;
    stoppables.push({ name: 'bot', stop: () => bot.stop() });
  }
  // Alerts run with the API (any number of API processes may run them side by side).
  if (active.has('api')) stoppables.push(startAlerting(services, { teams: bot?.teams }));
  const http = await startHttp(services, metrics, routes);
  urls.http = http.url;
  stoppables.push({ name: 'http', stop: () => closeServer(http.server) });
  if (graphql) {
    const closeWebSocket = graphql.attachWebSocket(http.server);
    // Stopped before the HTTP server, so open subscriptions end and it can close.
    stoppables.push({ name: 'graphql', stop: async () => (graphql.stop(), await closeWebSocket()) });
  }
  // Listed before the transports, so it stops after them and gives back every quota lease.
  stoppables.push({ name: 'enforcement', stop: () => services.enforcement.stop() });
  if (active.has('policy')) {
    const policy = await listening(config, 'SENDGUARD_POLICY_PORT', () => startPolicyServer(services, metrics));
    urls.policy = policy.url;
    stoppables.push({ name: 'policy', stop: policy.stop });
  }
  const relayModule = active.has('smtp') && config.smtpRelay.enabled ? await import('../mail/smtp-relay/start-smtp-relay.ts') : undefined;
  const relay = relayModule && (await listening(config, 'SENDGUARD_SMTP_PORT', () => relayModule.startSmtpRelay(services)));
  if (relay) {
    urls.smtp = relay.url;
    stoppables.push({ name: 'smtp', stop: relay.stop });
  }
  if (active.has('policy') || relay) {
    const pruner = createHistoryPruner({ db: services.db, clock: services.clock, logger });
    pruner.start();
    stoppables.push({ name: 'history-pruner', stop: () => pruner.stop() });
  }
  metrics.activeRestrictions.reset();
  const gauge = setInterval(() => void refreshGauge(services, metrics), 15_000);
  await refreshGauge(services, metrics);

  // The roles that run: a bot left out for want of its settings, or a relay without a smarthost, is not named.
  const running = [...active].filter((role) => (role === 'bot' ? bot?.teams !== undefined : role === 'smtp' ? relay !== undefined : true));
  logger.info({ roles: running, urls, database: database.kind }, 'sendguard started');
  let stopping: string | undefined;
  return {
    services,
    urls,
    get stopping() {
      return stopping;
    },
    async stop() {
      clearInterval(gauge);
      for (const s of stoppables.reverse()) {
        stopping = s.name;
        await s.stop().catch((err: unknown) => logger.error({ err, component: s.name }, 'stop failed'));
      }
      stopping = 'events';
      await services.events.stop();
      stopping = 'database';
      if (!options.database) await database.close();
      stopping = undefined;
      logger.info('sendguard stopped');
    },
  };
}

async function refreshGauge(services: Services, metrics: ReturnType<typeof createMetrics>): Promise<void> {
  const counts = await countActiveByKind(services.db).catch(() => []);
  for (const kind of ['user', 'connector']) {
    metrics.activeRestrictions.set({ entity_kind: kind }, counts.find((c) => c.entityKind === kind)?.n ?? 0);
  }
}
