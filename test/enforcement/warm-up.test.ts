import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCounting } from '../../db/repos/sending-counters.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, onPostgres, type TestDatabase } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { testServices } from '../helpers/services.ts';

// A new policy process readies its request path before it listens: tenants and connectors in
// memory, and every database connection ready to count, without counting anything.

const CONNECTIONS = 3;
let database: TestDatabase;
const recordCalls: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase({
    maxConnections: CONNECTIONS,
    logQuery: (q, params) => {
      if (q.startsWith('select * from sendguard_record_recipients(')) recordCalls.push(String(params[0]));
    },
  });
});
afterAll(async () => {
  await database.close();
});

async function rowCount(table: 'sending_counters' | 'counted_recipients' | 'sending_leases'): Promise<number> {
  const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return Number(row?.n);
}

describe('warming up enforcement', () => {
  it('does nothing on a database without tenants, and fails nothing', async () => {
    await prepareCounting(database.db, { leaseMs: 2000 });
    expect(recordCalls).toEqual([]);
  });

  it('decides a placeholder on every connection and leaves no count, lease or remembered recipient', async () => {
    const tenant = await createTestTenant(database);
    const services = testServices(database, manualClock('2026-11-26T10:00:05Z'));
    recordCalls.length = 0;

    await services.enforcement.warmUp(database.connections);

    expect(database.connections).toBe(onPostgres ? CONNECTIONS : 1);
    expect(recordCalls).toHaveLength(database.connections);
    expect(recordCalls.every((items) => items.includes(tenant.id) && items.includes('@sendguard.invalid'))).toBe(true);
    expect(await rowCount('sending_counters')).toBe(0);
    expect(await rowCount('counted_recipients')).toBe(0);
    expect(await rowCount('sending_leases')).toBe(0);
    if (onPostgres) {
      // Each placeholder ran in a transaction of its own, so each on a connection of its own.
      const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database()`);
      expect(Number(row?.n)).toBe(CONNECTIONS);
    }
    await services.enforcement.stop();
  });

  it('answers from memory what needs no count, and counts the first real recipient exactly', async () => {
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 1, action: 'BlockUser' });
    const services = testServices(database, manualClock('2026-11-26T10:00:05Z'));
    const stranger = { sender: 'someone@no-tenant-accepts-this.example', recipient: 'x@example.net' };
    expect(services.enforcement.answerFromMemory(stranger)).toBeUndefined();

    await services.enforcement.warmUp(database.connections);

    // The accepted domains are loaded: a sender no tenant accepts is answered at once.
    expect(services.enforcement.answerFromMemory(stranger)).toMatchObject({ verdict: 'accept' });
    const ann = { sender: tenant.address('ann'), recipient: 'a@example.net', instance: 'm1' };
    expect(await services.enforcement.checkRecipient(ann)).toMatchObject({ verdict: 'accept' });
    const refused = await services.enforcement.checkRecipient({ ...ann, recipient: 'b@example.net', instance: 'm2' });
    expect(refused).toMatchObject({ verdict: 'reject', smtpCode: 550, enhancedCode: '5.1.8' });
    const [row] = await database.rows<{ external: number }>(
      sql`select coalesce(sum(external), 0)::int as external from sending_counters where tenant_id = ${tenant.id}`,
    );
    expect(Number(row?.external)).toBe(1);
    await services.enforcement.stop();
  });
});
