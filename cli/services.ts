import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/client.ts';
import type { Clock } from '../domain/clock.ts';
import { createEventBus } from '../domain/events/event-bus.ts';
import { createExpiryScheduler } from '../domain/restrictions/expiry-scheduler.ts';
import { createRestrictionQueries } from '../domain/restrictions/restriction-queries.ts';
import { createRestrictionService } from '../domain/restrictions/restriction-service.ts';
import { createUnblockService } from '../domain/unblock/unblock-service.ts';
import type { Logger } from './logger.ts';

/** Every domain service, wired once. Transports receive the pieces they need from here. */
export function createServices(deps: { config: Config; database: Database; clock: Clock; logger: Logger }) {
  const { config, database, clock, logger } = deps;
  const db = database.db;
  const events = createEventBus({ database, pollMs: config.events.pollMs, logger });
  return {
    config,
    database,
    db,
    clock,
    logger,
    events,
    restrictions: createRestrictionService({ db, clock }),
    restrictionQueries: createRestrictionQueries({ db }),
    unblock: createUnblockService({ db, clock, quota: config.unblockQuota }),
    expiry: createExpiryScheduler({ db, clock, intervalMs: config.scheduler.expiryIntervalMs, logger }),
  };
}

export type Services = ReturnType<typeof createServices>;
