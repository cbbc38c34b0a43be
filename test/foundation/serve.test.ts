import net, { type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { findTenant, listAcceptedDomains } from '../../db/repos/tenants.ts';
import { listPolicies } from '../../db/repos/outbound-spam-policies.ts';
import { listAlertPolicies } from '../../db/repos/alert-policies.ts';
import postgres from 'postgres';
import { createTestDatabase, needsPostgres, onPostgres, postgresUrl } from '../helpers/db.ts';
import { runSendguard, startServerProcess } from '../helpers/process.ts';
import { createRestrictionService } from '../../domain/restrictions/restriction-service.ts';
import { systemActor } from '../../domain/actor.ts';
import { systemClock } from '../../domain/clock.ts';
import { testDir } from '../helpers/config.ts';
import { waitUntil } from '../helpers/wait.ts';

function env(dataDir: string, extra: Record<string, string> = {}) {
  return {
    SENDGUARD_DATA_DIR: dataDir,
    SENDGUARD_HTTP_PORT: '0',
    SENDGUARD_POLICY_PORT: '0',
    SENDGUARD_SMTP_PORT: '0',
    SENDGUARD_LOG_LEVEL: 'info',
    SENDGUARD_TENANT_ID: 'contoso',
    SENDGUARD_TENANT_NAME: 'Contoso',
    SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com,contoso.onmicrosoft.com',
    DATABASE_URL: '',
    ...extra,
  };
}

describe('sendguard serve', () => {
  it('serves health, readiness and metrics, logs JSON, and exits 0 on SIGTERM', async () => {
    const dataDir = testDir('serve');
    const server = await startServerProcess(['--only', 'api'], env(dataDir));
    const base = server.urls.http!;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('sendguard_active_restrictions{entity_kind="user"} 0');
    expect(metrics).toContain('sendguard_http_requests_total');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect(await server.stop('SIGTERM')).toBe(0);
    const logs = server.stderr().trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['bootstrap tenant created', 'sendguard started', 'shutting down', 'sendguard stopped']));
  });

  it('seeds the bootstrap tenant once on the embedded database and keeps all data across restarts', async () => {
    const dataDir = testDir('restart');
    const first = await startServerProcess(['--only', 'api'], env(dataDir));
    expect(await first.stop('SIGINT')).toBe(0);

    const database = await openDatabase({ dataDir });
    const restrictions = createRestrictionService({ db: database.db, clock: systemClock });
    await restrictions.restrict({ tenantId: 'contoso', entityKind: 'user', entityKey: 'ann@contoso.com', reasonCode: 'ManualBlock', temporary: false, actor: systemActor('test') });
    await database.close();

    const second = await startServerProcess(['--only', 'api'], env(dataDir));
    const metrics = await (await fetch(`${second.urls.http}/metrics`)).text();
    expect(metrics).toContain('sendguard_active_restrictions{entity_kind="user"} 1');
    expect(await second.stop()).toBe(0);
    expect(second.stderr()).not.toContain('bootstrap tenant created');

    const reopened = await openDatabase({ dataDir });
    expect(await listAcceptedDomains(reopened.db, 'contoso')).toEqual(['contoso.com', 'contoso.onmicrosoft.com']);
    expect((await listPolicies(reopened.db, 'contoso')).map((p) => [p.name, p.isDefault, p.recipientLimitPerDay, p.actionWhenThresholdReached])).toEqual([
      ['Default', true, 0, 'BlockUserForToday'],
    ]);
    expect((await listAlertPolicies(reopened.db, 'contoso')).map((p) => `${p.name} (${p.severity})`)).toEqual([
      'Email sending limit exceeded (Medium)',
      'Sending limit nearly reached (Medium)',
      'User restricted from sending email (High)',
    ]);
    await reopened.close();
  });

  it('exits 2 with one line naming the setting when a listener cannot open: a port in use, a host that is not this machine', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const inUse = await runSendguard(['serve', '--only', 'api,policy'], env(testDir('port-in-use'), { SENDGUARD_POLICY_PORT: String(port) }));
      expect(inUse.code).toBe(2);
      expect(inUse.stderr).not.toMatch(/^\s+at /m);
      expect(inUse.stderr.trim().split('\n').at(-1)).toBe(`sendguard: invalid configuration: SENDGUARD_POLICY_PORT is in use: another process listens on 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
    const host = await runSendguard(['serve', '--only', 'api'], env(testDir('bad-host'), { SENDGUARD_HOST: 'no-such-host.invalid' }));
    expect(host.code).toBe(2);
    expect(host.stderr).not.toMatch(/^\s+at /m);
    expect(host.stderr.trim().split('\n').at(-1)).toBe('sendguard: invalid configuration: SENDGUARD_HOST is not an address of this machine: no-such-host.invalid');
  });

  it('exits 1 with one line, the password left out, when PostgreSQL cannot be reached at DATABASE_URL, for serve and migrate', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    for (const verb of [['serve', '--only', 'api'], ['migrate']]) {
      const result = await runSendguard(verb, env(testDir('no-postgres'), { DATABASE_URL: `postgres://sendguard:s3cret@127.0.0.1:${port}/sendguard` }));
      expect({ verb, code: result.code }).toEqual({ verb, code: 1 });
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).not.toContain('s3cret');
      expect(result.stderr.trim().split('\n').at(-1)).toBe(`sendguard: cannot reach the database at postgres://sendguard@127.0.0.1:${port}/sendguard: connection refused (ECONNREFUSED); is PostgreSQL running there? Check DATABASE_URL`);
    }
  });

  it.runIf(onPostgres)('exits 1 with one line when the database DATABASE_URL names does not exist on the server', async () => {
    const url = new URL(postgresUrl!);
    url.pathname = '/sendguard_no_such_database';
    const result = await runSendguard(['serve', '--only', 'api'], env(testDir('no-database'), { DATABASE_URL: url.toString() }));
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    url.password = '';
    expect(result.stderr.trim().split('\n').at(-1)).toBe(`sendguard: cannot open the database at ${url.toString()}: database "sendguard_no_such_database" does not exist (3D000); check DATABASE_URL`);
  });

  it('exits 2 with one line naming SENDGUARD_DATA_DIR when the embedded database cannot be made there', async () => {
    const file = path.join(testDir('data-dir-file'), 'not-a-directory');
    writeFileSync(file, '');
    const result = await runSendguard(['serve', '--only', 'api'], env(path.join(file, 'data')));
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(`sendguard: invalid configuration: SENDGUARD_DATA_DIR cannot hold the embedded database: ${path.join(file, 'data')} is not a directory that can be made or written (ENOTDIR)`);
  });

  it('refuses a bootstrap tenant whose domains would take senders from another organisation, with exit code 2, and creates nothing', async () => {
    const dataDir = testDir('overlap');
    const first = await startServerProcess(['--only', 'api'], env(dataDir));
    expect(await first.stop()).toBe(0);

    const fabrikam = { SENDGUARD_TENANT_ID: 'fabrikam', SENDGUARD_TENANT_NAME: 'Fabrikam' };
    const sub = await runSendguard(['serve', '--only', 'api'], env(dataDir, { ...fabrikam, SENDGUARD_ACCEPTED_DOMAINS: 'fabrikam.com,EU.contoso.com' }));
    expect(sub.code).toBe(2);
    expect(sub.stderr.trim().split('\n').at(-1)).toBe(
      'sendguard: invalid configuration: SENDGUARD_ACCEPTED_DOMAINS is not valid: eu.contoso.com is not available: another organisation has accepted contoso.com, of which it is a subdomain',
    );
    const parent = await runSendguard(['serve', '--only', 'api'], env(dataDir, { ...fabrikam, SENDGUARD_ACCEPTED_DOMAINS: 'onmicrosoft.com' }));
    expect(parent.code).toBe(2);
    expect(parent.stderr).toContain('onmicrosoft.com is not available: another organisation has accepted contoso.onmicrosoft.com, a subdomain of it');
    const suffix = await runSendguard(['serve', '--only', 'api'], env(dataDir, { ...fabrikam, SENDGUARD_ACCEPTED_DOMAINS: 'fabrikam.co.uk,co.uk' }));
    expect(suffix.code).toBe(2);
    expect(suffix.stderr).toContain('co.uk is not available: it is a public suffix, under which anyone can register a domain');

    const database = await openDatabase({ dataDir });
    expect(await findTenant(database.db, 'fabrikam')).toBeUndefined();
    expect(await listAcceptedDomains(database.db, 'fabrikam')).toEqual([]);
    await database.close();

    // The organisation that holds the domains starts as before, and so does one that overlaps nobody.
    const again = await startServerProcess(['--only', 'api'], env(dataDir));
    expect(await again.stop()).toBe(0);
    const other = await startServerProcess(['--only', 'api'], env(dataDir, { ...fabrikam, SENDGUARD_ACCEPTED_DOMAINS: 'fabrikam.com' }));
    expect(await other.stop()).toBe(0);
  });

  it.skipIf(!onPostgres)(`readiness fails while the database refuses connections, and recovers by itself, logging the outage once (${needsPostgres})`, async () => {
    const dataDir = testDir('ready');
    const database = await createTestDatabase();
    const name = new URL(database.url!).pathname.slice(1);
    await database.close();
    const server = await startServerProcess(['--only', 'api'], env(dataDir, { DATABASE_URL: database.url!, SENDGUARD_EVENT_POLL_MS: '100' }));
    const ready = async () => (await fetch(`${server.urls.http}/readyz`)).status;
    const logged = () => server.stderr().split('\n').slice(0, -1).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; failures?: number });
    expect(await ready()).toBe(200);
    const admin = postgres(postgresUrl!, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`alter database ${name} allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      expect(await ready()).toBe(503);
      // The event bus polls every 100 ms: once the first failed catch-up is logged, the outage
      // lasts 2 s more, so several fail in a row however slow the machine is, and are logged once.
      await waitUntil(() => logged().some((l) => l.msg === 'event catch-up failed; will retry'), 'the first failed catch-up in the log');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await admin.unsafe(`alter database ${name} allow_connections true`);
      // postgres.js reconnects with a backoff, so readiness comes back within moments, not at once.
      await waitUntil(async () => (await ready()) === 200, 'readiness after the outage');
    } finally {
      await admin.unsafe(`alter database ${name} allow_connections true`);
      await admin.end();
    }
    // postgres.js reconnects with a growing backoff, so the recovery is awaited, not timed.
    await waitUntil(() => logged().some((l) => l.msg === 'event catch-up recovered'), 'the recovery in the log');
    const catchUp = logged().filter((l) => l.msg.startsWith('event catch-up'));
    expect(catchUp.map((l) => l.msg)).toEqual(['event catch-up failed; will retry', 'event catch-up recovered']);
    expect(catchUp[1]!.failures).toBeGreaterThanOrEqual(2);
    expect(await server.stop()).toBe(0);
  });
});
