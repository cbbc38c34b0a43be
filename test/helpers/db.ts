import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { provisionTenant } from '../../domain/tenants/provision-tenant.ts';
import { withDatabase } from './global-setup.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export const postgresUrl = inject('postgresUrl');
export const onPostgres = postgresUrl !== null;
/** For `it.skipIf(!onPostgres)`: tests that need several real connections. */
export const needsPostgres = 'needs several real PostgreSQL connections; skipped on PGlite (set DATABASE_URL to run)';

export interface TestDatabase extends Database {
  /** The database's URL on PostgreSQL (for child processes); null on PGlite. */
  url: string | null;
}

/** A fresh migrated database for one test file: a clone of the template on PostgreSQL, in-memory PGlite otherwise. */
export async function createTestDatabase(options: { maxConnections?: number; logQuery?: (query: string, params: unknown[]) => void } = {}): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  if (!postgresUrl || !template) {
    const database = await openDatabase({ dataDir: 'memory', logQuery: options.logQuery });
    return Object.assign(database, { url: null });
  }
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(postgresUrl, name);
  const database = await openDatabase({ databaseUrl: url, dataDir: 'memory', migrate: false, maxConnections: options.maxConnections ?? 20, logQuery: options.logQuery });
  return Object.assign(database, { url });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export interface TestTenant {
  id: string;
  name: string;
  domain: string;
  /** An address in the tenant's accepted domain. */
  address(local: string): string;
}

/** A tenant of its own, provisioned like the bootstrap tenant, with one accepted domain. */
export async function createTestTenant(database: Database, options: { domains?: string[] } = {}): Promise<TestTenant> {
  const id = uniqueName('t');
  const domain = `${id}.test`;
  await provisionTenant(database.db, { id, name: `Tenant ${id}`, acceptedDomains: [domain, ...(options.domains ?? [])] }, { warningThresholdPercent: 80 });
  return { id, name: `Tenant ${id}`, domain, address: (local) => `${local}@${domain}` };
}

/**
 * A fresh test database (PostgreSQL) behind a TCP proxy a test can stall: `url` goes through the
 * proxy, `open()` opens a client there, `direct` is the test's own way in. The caller closes all three.
 */
export async function databaseBehindProxy(): Promise<{ direct: TestDatabase; proxy: TcpProxy; url: string; open(): Promise<TestDatabase> }> {
  const direct = await createTestDatabase();
  const url = new URL(direct.url as string);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.port = String(proxy.port);
  const proxied = url.href;
  return {
    direct,
    proxy,
    url: proxied,
    open: async () => Object.assign(await openDatabase({ databaseUrl: proxied, dataDir: 'memory', migrate: false }), { url: proxied }),
  };
}

/**
 * Makes the database refuse the next `times` saves of a posted Teams card's id in the tenant (a
 * real failing statement; the counter is a sequence, which the failure does not roll back).
 * Returns what removes the failure.
 */
export async function failPostedCardSaves(database: Database, tenantId: string, times: number): Promise<() => Promise<void>> {
  const name = `fail_saves_${tenantId.replace(/\W/g, '_')}`;
  await database.db.execute(sql.raw(`CREATE SEQUENCE ${name}`));
  await database.db.execute(
    sql.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.tenant_id = '${tenantId}' AND NEW.activity_id <> '' AND nextval('${name}') <= ${times} THEN RAISE EXCEPTION 'connection lost'; END IF;
      RETURN NEW; END $$`),
  );
  await database.db.execute(sql.raw(`CREATE TRIGGER ${name} BEFORE UPDATE ON teams_posted_cards FOR EACH ROW EXECUTE FUNCTION ${name}()`));
  return async () => {
    await database.db.execute(sql.raw(`DROP TRIGGER ${name} ON teams_posted_cards`));
  };
}
