import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlerting } from '../../cli/alerting.ts';
import { systemClock } from '../../domain/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { testServices } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';
import { alertsOf, limitRestriction } from './alert-fixtures.ts';

let database: TestDatabase;
let services: ReturnType<typeof testServices>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, systemClock);
  await services.events.start();
});
afterAll(async () => {
  await services.events.stop();
  await database.close();
});

/** A real fault in the alert's own transaction: the restriction and its event still commit. */
async function refuseAlerts(tenant: TestTenant): Promise<() => Promise<void>> {
  const name = `refuse_alerts_${tenant.id.replaceAll('-', '_')}`;
  await database.rows(sql.raw(`create function ${name}() returns trigger language plpgsql as $$
    begin if new.tenant_id = '${tenant.id}' then raise exception 'alerts are refused for now'; end if; return new; end $$`));
  await database.rows(sql.raw(`create trigger ${name} before insert or update on alerts for each row execute function ${name}()`));
  return async () => {
    await database.rows(sql.raw(`drop trigger ${name} on alerts`));
    await database.rows(sql.raw(`drop function ${name}()`));
  };
}

describe('alerts in a running process', () => {
  it('an alert that cannot be written for a while is raised once it can, in order, and other subscribers are not held up meanwhile', async () => {
    const tenant = await createTestTenant(database);
    const alerting = startAlerting(services);
    const seen: string[] = [];
    const unsubscribe = services.events.subscribe((event) => void (event.tenantId === tenant.id && seen.push(`${event.type} ${event.entityKey}`)));
    const allow = await refuseAlerts(tenant);
    try {
      await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('ann')));
      await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('bob')));
      await services.events.flush();
      expect(seen).toEqual([`UserRestricted ${tenant.address('ann')}`, `UserRestricted ${tenant.address('bob')}`]);
      // Longer than the quick retries the first attempt gets.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await alertsOf(database, tenant.id)).toEqual([]);
    } finally {
      await allow();
    }
    const raised = await waitFor(() => alertsOf(database, tenant.id), (list) => list.length === 2, 'the alerts');
    expect(raised.map((a) => [a.kind, a.entityKey, a.status])).toEqual([
      ['UserRestricted', tenant.address('ann'), 'New'],
      ['UserRestricted', tenant.address('bob'), 'New'],
    ]);
    unsubscribe();
    await alerting.stop();
  }, 30_000);

  it('past the events it may hold, the oldest are left (for a catch-up on start) and the newest still raise their alerts', async () => {
    const tenant = await createTestTenant(database);
    const alerting = startAlerting(services, { maxWaiting: 2 });
    const allow = await refuseAlerts(tenant);
    try {
      for (const local of ['fay', 'gus', 'hal']) await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address(local)));
      await services.events.flush();
    } finally {
      await allow();
    }
    const raised = await waitFor(() => alertsOf(database, tenant.id), (list) => list.length === 2, 'the alerts');
    expect(raised.map((a) => a.entityKey)).toEqual([tenant.address('gus'), tenant.address('hal')]);
    await alerting.stop();
  }, 30_000);

  it('while all is well, the alert is raised before the event bus reports the event delivered', async () => {
    const tenant = await createTestTenant(database);
    const alerting = startAlerting(services);
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('cal')));
    await services.events.flush();
    expect((await alertsOf(database, tenant.id)).map((a) => a.entityKey)).toEqual([tenant.address('cal')]);
    await alerting.stop();
  });

  it('a catch-up on start that fails is tried again, before the live events', async () => {
    const tenant = await createTestTenant(database);
    // Committed while no alert consumer runs.
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('dee')));
    await services.events.flush();
    const allow = await refuseAlerts(tenant);
    const alerting = startAlerting(services);
    try {
      await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('eve')));
      await services.events.flush();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await alertsOf(database, tenant.id)).toEqual([]);
    } finally {
      await allow();
    }
    const raised = await waitFor(() => alertsOf(database, tenant.id), (list) => list.length === 2, 'the alerts');
    expect(raised.map((a) => a.entityKey)).toEqual([tenant.address('dee'), tenant.address('eve')]);
    await alerting.stop();
  }, 30_000);
});
