import { and, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { events } from '../../db/schema/events.ts';
import { restrictions } from '../../db/schema/restrictions.ts';
import { sendingCounters } from '../../db/schema/sending-counters.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, type TestDatabase } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { startServerProcess, type ServerProcess } from '../helpers/process.ts';
import { testDir } from '../helpers/config.ts';

const CONNECTIONS = 16;
const RECIPIENTS = 2000;
const LIMIT = 1000;

describe('exact counting across policy-server processes', () => {
  let database: TestDatabase | undefined;
  const processes: ServerProcess[] = [];
  const clients: PolicyClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(processes.map((p) => p.stop()));
    await database?.close();
  });

  function startPolicyProcess(url: string): Promise<ServerProcess> {
    return startServerProcess(
      ['--only', 'policy'],
      {
        DATABASE_URL: url,
        SENDGUARD_DATA_DIR: testDir('policy'),
        SENDGUARD_HTTP_PORT: '0',
        SENDGUARD_POLICY_PORT: '0',
        SENDGUARD_LOG_LEVEL: 'warn',
        SENDGUARD_TENANT_ID: 'bootstrap',
      },
      ['policy'],
    );
  }

  it.skipIf(!onPostgres)(`two processes, ${CONNECTIONS} connections, ${RECIPIENTS} recipients for one sender with a limit of ${LIMIT}: exactly ${LIMIT} accepted and one restriction (${needsPostgres})`, async () => {
    database = await createTestDatabase();
    const url = database.url as string;
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: LIMIT, action: 'BlockUser' });
    processes.push(...(await Promise.all([startPolicyProcess(url), startPolicyProcess(url)])));
    const ports = processes.map((p) => Number(new URL(p.urls.policy as string).port));

    for (let i = 0; i < CONNECTIONS; i++) clients.push(await PolicyClient.connect(ports[i % ports.length] as number));
    const sender = tenant.address('bulk');
    const perConnection = RECIPIENTS / CONNECTIONS;
    const replies = (
      await Promise.all(
        clients.map(async (client, c) => {
          const out: string[] = [];
          for (let i = 0; i < perConnection; i++) {
            out.push(await client.ask(rcptRequest({ sender, recipient: `c${c}-r${i}@fabrikam.test`, instance: `message-${c}` })));
          }
          return out;
        }),
      )
    ).flat();

    const tally = new Map<string, number>();
    for (const r of replies) tally.set(r, (tally.get(r) ?? 0) + 1);
    expect(Object.fromEntries(tally)).toEqual({ DUNNO: LIMIT, '550 5.1.8 Access denied, bad outbound sender': RECIPIENTS - LIMIT });

    const db = database.db;
    const rows = await db.select().from(restrictions).where(eq(restrictions.tenantId, tenant.id));
    expect(rows.map((r) => [r.entityKey, r.status, r.externalRecipientCount])).toEqual([[sender, 'Restricted', LIMIT]]);
    const restricted = await db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.type, 'UserRestricted')));
    expect(restricted).toHaveLength(1);
    const [counted] = await db
      .select({ n: sql<number>`sum(${sendingCounters.external})::int` })
      .from(sendingCounters)
      .where(eq(sendingCounters.tenantId, tenant.id));
    expect(counted?.n).toBe(LIMIT);
  });
});
