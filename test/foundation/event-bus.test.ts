import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import { createEventBus, streamEvents } from '../../domain/events/event-bus.ts';
import type { StoredEvent } from '../../domain/events/event-types.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

async function raise(tenantId: string, key: string, db = database.db): Promise<StoredEvent> {
  return db.transaction((tx) =>
    appendEvent(tx, { tenantId, type: 'UserRestricted', entityKind: 'user', entityKey: key, payload: { key }, occurredAt: new Date() }),
  );
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('event bus', () => {
  it('delivers committed events in id order, once, and nothing from a rolled-back transaction', async () => {
    const tenant = await createTestTenant(database);
    const bus = createEventBus({ database, pollMs: 60_000 });
    await bus.start();
    const seen: StoredEvent[] = [];
    bus.subscribe((e) => void (e.tenantId === tenant.id && seen.push(e)));
    await raise(tenant.id, 'a');
    await database.db
      .transaction(async (tx) => {
        await appendEvent(tx, { tenantId: tenant.id, type: 'UserRestricted', entityKind: 'user', entityKey: 'rolled-back', payload: {}, occurredAt: new Date() });
        throw new Error('abort');
      })
      .catch(() => undefined);
    await raise(tenant.id, 'b');
    await until(() => seen.length === 2);
    await bus.flush();
    expect(seen.map((e) => e.entityKey)).toEqual(['a', 'b']);
    expect(seen[0]!.id).toBeLessThan(seen[1]!.id);
    await bus.stop();
  });

  it('catches up by polling when a notification is lost', async () => {
    const tenant = await createTestTenant(database);
    const silent = { ...database, listen: async () => async () => {} };
    const bus = createEventBus({ database: silent, pollMs: 50 });
    await bus.start();
    const seen: string[] = [];
    bus.subscribe((e) => void (e.tenantId === tenant.id && seen.push(e.entityKey)));
    await raise(tenant.id, 'lost-notify');
    await until(() => seen.length === 1);
    expect(seen).toEqual(['lost-notify']);
    await bus.stop();
  });

  it('a resumed stream yields what was missed after the last seen id, in order, then live events, each once', async () => {
    const tenant = await createTestTenant(database);
    const other = await createTestTenant(database);
    const bus = createEventBus({ database, pollMs: 60_000 });
    await bus.start();
    const first = await raise(tenant.id, 'one');
    await raise(other.id, 'foreign');
    await raise(tenant.id, 'two');
    await raise(tenant.id, 'three');
    const controller = new AbortController();
    const stream = streamEvents({ database, bus }, { tenantId: tenant.id, afterId: first.id, signal: controller.signal });
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        got.push(e.entityKey);
        if (got.length === 3) controller.abort();
      }
    })();
    await until(() => got.length === 2);
    await raise(tenant.id, 'four');
    await reading;
    expect(got).toEqual(['two', 'three', 'four']);
    await bus.stop();
  });

  it.skipIf(!onPostgres)(`crosses processes: an event committed on one connection pool reaches another's bus by NOTIFY (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    const elsewhere = await openDatabase({ databaseUrl: database.url!, dataDir: 'memory', migrate: false });
    const bus = createEventBus({ database, pollMs: 60_000 });
    await bus.start();
    const seen: string[] = [];
    bus.subscribe((e) => void (e.tenantId === tenant.id && seen.push(e.entityKey)));
    await raise(tenant.id, 'from-elsewhere', elsewhere.db);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['from-elsewhere']);
    await bus.stop();
    await elsewhere.close();
  });
});
