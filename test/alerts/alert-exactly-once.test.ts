import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { events } from '../../db/schema/events.ts';
import type { StoredEvent } from '../../domain/events/event-types.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { testServices } from '../helpers/services.ts';
import { alertsOf, appendLimitEvent, grantRole, notificationsOf } from './alert-fixtures.ts';

let database: TestDatabase;
const clock = manualClock('2026-11-26T10:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase({ maxConnections: 30 });
});
afterAll(async () => database.close());

const senders = ['ann', 'ben', 'cat', 'dan', 'eve'];

/** Four events per sender, 10 s apart (one alert each with hit count 4), interleaved across senders. */
async function burst(tenant: TestTenant, start = Date.parse('2026-11-26T10:00:00Z')): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < 4; i += 1) {
    for (const s of senders) out.push(await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address(s) }, new Date(start + i * 10_000)));
  }
  return out;
}

async function expectOneAlertPerSender(tenant: TestTenant): Promise<void> {
  const rows = await alertsOf(database, tenant.id);
  expect(rows.map((a) => [a.entityKey, a.hitCount]).sort()).toEqual(senders.map((s) => [tenant.address(s), 4]).sort());
  expect((await notificationsOf(database, tenant.id)).map((n) => n.alertId).sort()).toEqual(rows.map((a) => a.id).sort());
  const published = await database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.entityKind, 'alert')));
  expect(published.filter((e) => e.type === 'AlertRaised')).toHaveLength(senders.length);
  expect(published.filter((e) => e.type === 'AlertUpdated')).toHaveLength(senders.length * 3);
}

describe('every event is handled once, whoever handles it', () => {
  it('two consumers handling the same events side by side raise one alert per stream, with exact hit counts', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const stream = await burst(tenant);
    const consumers = [testServices(database, clock), testServices(database, clock), testServices(database, clock)];
    // Each consumer goes through the events in id order, as every process's event bus does.
    await Promise.all(consumers.map(async (s) => {
      for (const event of stream) await s.alerts.handleEvent(event);
    }));
    await expectOneAlertPerSender(tenant);
  });

  it.skipIf(!onPostgres)(`three processes' event buses on their own connection pools raise each alert once (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const pools = await Promise.all([0, 1, 2].map(() => openDatabase({ databaseUrl: database.url ?? '', dataDir: 'memory', migrate: false, maxConnections: 5 })));
    const processes = pools.map((pool) => testServices(pool, clock));
    try {
      for (const p of processes) {
        await p.events.start();
        p.events.subscribe((event) => p.alerts.handleEvent(event).then(() => undefined));
      }
      await burst(tenant);
      await Promise.all(processes.map((p) => p.events.flush()));
      await expectOneAlertPerSender(tenant);
    } finally {
      for (const p of processes) await p.events.stop();
      for (const pool of pools) await pool.close();
    }
  });

  it('catch-up handles recent events no consumer saw, once, and leaves older ones alone', async () => {
    const tenant = await createTestTenant(database);
    const services = testServices(database, clock);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('old') }, new Date('2026-11-26T08:00:00Z'));
    const stream = await burst(tenant, Date.parse('2026-11-26T09:30:00Z'));
    const throughId = stream[stream.length - 1]?.id ?? 0;
    const after = await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('later') }, new Date('2026-11-26T09:59:00Z'));
    const since = new Date('2026-11-26T09:00:00Z');
    // Half the stream was already handled by a running consumer before the restart.
    for (const event of stream.slice(0, 7)) await services.alerts.handleEvent(event);

    expect(await services.alerts.catchUp({ since, throughId })).toBe(stream.length - 7);
    expect(await services.alerts.catchUp({ since, throughId })).toBe(0);
    await expectOneAlertPerSender(tenant);
    expect((await alertsOf(database, tenant.id)).some((a) => a.entityKey === tenant.address('old') || a.entityKey === after.entityKey)).toBe(false);
  });
});
