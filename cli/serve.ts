import type http from 'node:http';
import { closeServer, createHttpServer, listen, type RouteHandler } from '../api/http-server.ts';
import { createMetrics } from '../api/metrics.ts';
import type { Config } from '../config/load-config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { countActiveByKind } from '../db/repos/restrictions.ts';
import { systemClock, type Clock } from '../domain/clock.ts';
import { provisionTenant } from '../domain/tenants/provision-tenant.ts';
import { createLogger, type Logger } from './logger.ts';
import { createServices, type Services } from './services.ts';

export const roles = ['api', 'bot', 'policy', 'smtp'] as const;
export type Role = (typeof roles)[number];

export interface RunningSendguard {
  services: Services;
  urls: Partial<Record<'http' | 'policy' | 'smtp', string>>;
  stop(): Promise<void>;
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export async function openAndSeed(config: Config, logger: Logger): Promise<Database> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const seeded = await provisionTenant(database.db, config.bootstrapTenant, { warningThresholdPercent: config.alerts.warningThresholdPercent });
  if (seeded.created) logger.info({ tenant: config.bootstrapTenant.id }, 'bootstrap tenant created');
  return database;
}

async function startHttp(services: Services, metrics: ReturnType<typeof createMetrics>, routes: Record<string, RouteHandler>): Promise<{ server: http.Server; url: string }> {
  const { config, database, logger } = services;
  const server = createHttpServer({ routes, ready: () => database.ping(), metrics, logger });
  const address = await listen(server, config.listen.httpPort, config.listen.host);
  return { server, url: `http://${config.listen.host}:${address.port}` };
}

/** The composition root: opens the database, wires the services and starts the requested roles. */
export async function startSendguard(config: Config, options: { roles?: readonly Role[]; clock?: Clock; logger?: Logger } = {}): Promise<RunningSendguard> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const active = new Set(options.roles ?? roles);
  const database = await openAndSeed(config, logger);
  const services = createServices({ config, database, clock: options.clock ?? systemClock, logger });
  const metrics = createMetrics();
  const stoppables: Stoppable[] = [];
  const urls: RunningSendguard['urls'] = {};

  await services.events.start();
  services.events.subscribe((e) => metrics.eventsDelivered.inc({ type: e.type }));
  services.expiry.start();
  stoppables.push({ name: 'expiry', stop: () => services.expiry.stop() });

  const routes: Record<string, RouteHandler> = {};
  const http = await startHttp(services, metrics, routes);
  urls.http = http.url;
  stoppables.push({ name: 'http', stop: () => closeServer(http.server) });
  metrics.activeRestrictions.reset();
  const gauge = setInterval(() => void refreshGauge(services, metrics), 15_000);
  await refreshGauge(services, metrics);

  logger.info({ roles: [...active], urls, database: database.kind }, 'sendguard started');
  return {
    services,
    urls,
    async stop() {
      clearInterval(gauge);
      for (const s of stoppables.reverse()) await s.stop().catch((err: unknown) => logger.error({ err, component: s.name }, 'stop failed'));
      await services.events.stop();
      await database.close();
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
