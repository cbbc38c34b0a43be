import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../cli/logger.ts';
import { systemClock } from '../../domain/clock.ts';
import { createPolicyServer, type PolicyServer } from '../../mail/policy-server/policy-server.ts';
import { createTestDatabase, databaseBehindProxy, createTestTenant, needsPostgres, onPostgres, postgresUrl, type TestDatabase } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { captureLogs } from '../helpers/logs.ts';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { testServices } from '../helpers/services.ts';

const TEMPORARY = '451 4.3.5 Server configuration problem, try again later';

describe('the database going away mid-traffic', () => {
  let database: TestDatabase | undefined;
  const servers: PolicyServer[] = [];
  const clients: PolicyClient[] = [];
  const stoppers: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    for (const stop of stoppers.reverse()) await stop();
    await database?.close();
  });

  async function policyServer(db: TestDatabase, env: Record<string, string>, logger?: Logger): Promise<number> {
    const services = testServices(db, systemClock, { SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: '1000000', SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: '1000000', ...env });
    await services.events.start();
    stoppers.push(() => services.events.stop());
    const server = createPolicyServer({ enforcement: services.enforcement, logger });
    servers.push(server);
    return (await server.listen(0, '127.0.0.1')).port;
  }

  async function connect(port: number): Promise<PolicyClient> {
    const client = await PolicyClient.connect(port);
    clients.push(client);
    return client;
  }

  it.skipIf(!onPostgres)(`answers only the configured temporary reply while it is unreachable, then serves normally again without a restart (${needsPostgres})`, { timeout: 120_000 }, async () => {
    database = await createTestDatabase();
    const name = new URL(database.url as string).pathname.slice(1);
    const tenant = await createTestTenant(database);
    // Limits out of the way: this test is about the database, not about counting.
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 1_000_000, perDay: 1_000_000 });
    const sender = tenant.address('ann');
    const deferring = await policyServer(database, {});
    const lenient = await policyServer(database, { SENDGUARD_POLICY_DB_ERROR_ACTION: 'dunno' });
    let n = 0;
    const ask = (client: PolicyClient) => client.ask(rcptRequest({ sender, recipient: `r${++n}@fabrikam.test` }));

    // Background traffic on four connections for the whole test: every reply must be one of the two.
    const seen = new Set<string>();
    let running = true;
    const traffic = Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = await connect(deferring);
        while (running) seen.add(await ask(client));
      }),
    );

    const probe = await connect(deferring);
    const lenientProbe = await connect(lenient);
    expect(await ask(probe)).toBe('DUNNO');

    const admin = postgres(postgresUrl as string, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`alter database ${name} allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      let reply = await ask(probe);
      while (reply === 'DUNNO') reply = await ask(probe);
      expect(reply).toBe(TEMPORARY);
      expect([await ask(probe), await ask(probe), await ask(probe)]).toEqual([TEMPORARY, TEMPORARY, TEMPORARY]);
      expect(await ask(lenientProbe)).toBe('DUNNO');
    } finally {
      await admin.unsafe(`alter database ${name} allow_connections true`);
      await admin.end();
    }

    // postgres.js reconnects with a growing backoff (up to 20 s), so recovery is awaited, not timed.
    let recovered = await ask(probe);
    while (recovered === TEMPORARY) recovered = await ask(probe);
    expect(recovered).toBe('DUNNO');
    running = false;
    await traffic;
    expect([...seen].sort()).toEqual([TEMPORARY, 'DUNNO'].sort());
  });

  it.skipIf(!onPostgres)(`answers by its deadline (3 s, or SENDGUARD_POLICY_TIMEOUT_MS) while the database does not answer at all, and normally once it answers again (${needsPostgres})`, { timeout: 60_000 }, async () => {
    const { direct: target, proxy, open } = await databaseBehindProxy();
    const tenant = await createTestTenant(target);
    await setDefaultPolicy(target, tenant.id, { externalPerHour: 1_000_000, perDay: 1_000_000 });
    stoppers.push(() => proxy.close());
    const proxied = await open();
    stoppers.push(async () => (await proxied.close(), await target.close()));
    const { logger, lines: logged } = captureLogs();
    const probe = await connect(await policyServer(proxied, {}, logger));
    const lenient = await connect(await policyServer(proxied, { SENDGUARD_POLICY_DB_ERROR_ACTION: 'dunno' }));
    let n = 0;
    // A new sender each time: nothing about it is in memory, so each request needs the database.
    const ask = (client: PolicyClient) => client.ask(rcptRequest({ sender: tenant.address(`s${++n}`), recipient: `r${n}@fabrikam.test` }));
    expect(await ask(probe)).toBe('DUNNO');

    const quick = await connect(await policyServer(proxied, { SENDGUARD_POLICY_TIMEOUT_MS: '1000' }));

    proxy.stall();
    const asked = Date.now();
    const answeredAfter = async (client: PolicyClient) => [await ask(client), Date.now() - asked] as const;
    const [[quickReply, quickMs], [probeReply, probeMs], [lenientReply]] = await Promise.all([answeredAfter(quick), answeredAfter(probe), answeredAfter(lenient)]);
    expect([quickReply, probeReply, lenientReply]).toEqual([TEMPORARY, TEMPORARY, 'DUNNO']);
    // The deadline is 3 s unless SENDGUARD_POLICY_TIMEOUT_MS says otherwise; Postfix waits 100 s
    // (smtpd_policy_service_timeout) before it gives up.
    expect(quickMs).toBeGreaterThanOrEqual(900);
    expect(quickMs).toBeLessThan(probeMs);
    expect(probeMs).toBeGreaterThanOrEqual(2900);
    expect(probeMs).toBeLessThan(10_000);
    // Counted in the metrics and logged by enforcement every 5 s, not a line per answer.
    expect(logged.filter((line) => line.includes('"msg":"policy: '))).toEqual([]);
    proxy.resume();
    let reply = await ask(probe);
    while (reply === TEMPORARY) reply = await ask(probe);
    expect(reply).toBe('DUNNO');
  });
});
