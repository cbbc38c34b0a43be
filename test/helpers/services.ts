import type { Database } from '../../db/client.ts';
import { systemActor, type Actor } from '../../domain/actor.ts';
import type { Clock } from '../../domain/clock.ts';
import { createServices } from '../../cli/services.ts';
import { createLogger } from '../../cli/logger.ts';
import { testConfig } from './config.ts';

export const admin: Actor = { kind: 'user', id: 'oid-admin-1', name: 'Adele Vance', roles: ['Security Administrator'], source: 'test' };
export const secondAdmin: Actor = { kind: 'user', id: 'oid-admin-2', name: 'Megan Bowen', roles: ['Global Administrator'], source: 'test' };
export const policyActor = systemActor('policy');

/** The production wiring on a test database, with a clock the test may control. */
export function testServices(database: Database, clock: Clock, env: Record<string, string> = {}) {
  return createServices({ config: testConfig(env), database, clock, logger: createLogger('silent') });
}
