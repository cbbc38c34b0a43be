import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPoolSize, openDatabase } from '../../db/client.ts';
import { tenants } from '../../db/tables.ts';
import { createTestDatabase, createTestTenant, onPostgres, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { testDir } from '../helpers/config.ts';

const onPostgresOnly = 'PostgreSQL only: the embedded database has no wire protocol';

describe.skipIf(!onPostgres)(`the PostgreSQL client (${onPostgresOnly})`, () => {
  let database: TestDatabase;
  let tenant: TestTenant;

  beforeAll(async () => {
    // One connection, so pg_prepared_statements shows every statement this client sent.
    database = await createTestDatabase({ maxConnections: 1 });
    tenant = await createTestTenant(database);
  });
  afterAll(() => database.close());

  const prepared = async (fragment: string): Promise<string[]> =>
    (await database.rows<{ statement: string }>(sql`select statement from pg_prepared_statements where statement like ${`%${fragment}%`}`)).map((r) => r.statement);

  it('prepares every statement drizzle sends, in and out of transactions, so a repeated query takes one round trip', async () => {
    const byId = () => database.db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenant.id));
    expect(await byId()).toEqual([{ name: tenant.name }]);
    expect(await byId()).toEqual([{ name: tenant.name }]);
    expect(await prepared('from "tenants" where "tenants"."id" = $1')).toHaveLength(1);

    const inTransaction = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select ${tenant.id}::text as in_transaction_marker`);
      return tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.name, tenant.name));
    });
    expect(inTransaction).toEqual([{ id: tenant.id }]);
    expect(await prepared('as in_transaction_marker')).toHaveLength(1);
    expect(await prepared('from "tenants" where "tenants"."name" = $1')).toHaveLength(1);
  });

  it('still reports a failing statement as the PostgreSQL error, with its SQLSTATE', async () => {
    await expect(database.rows(sql`select 1 / ${0}::int`)).rejects.toMatchObject({ cause: { code: '22012' } });
    // The failed statement does not poison the connection's next one.
    expect(await database.rows<{ ok: number }>(sql`select ${1}::int as ok`)).toEqual([{ ok: 1 }]);
  });

  it('keeps at most its pool of connections, pipelining the queries that arrive together', async () => {
    const pool = await openDatabase({ databaseUrl: database.url ?? '', dataDir: 'memory', migrate: false, maxConnections: 2 });
    try {
      // 12 queries at once, each naming itself: every one gets its own answer back, over 2 backends.
      const answers = await Promise.all(Array.from({ length: 12 }, (_, k) =>
        pool.rows<{ k: number; pid: number }>(sql`select ${k}::int as k, pg_backend_pid() as pid, pg_sleep(0.01)`)));
      expect(answers.map((rows) => rows[0]?.k)).toEqual(Array.from({ length: 12 }, (_, k) => k));
      expect(new Set(answers.map((rows) => rows[0]?.pid)).size).toBe(2);
    } finally {
      await pool.close();
    }
  });
});

// The size needs no database: it is checked on every run, not only on PostgreSQL.
describe('the PostgreSQL pool size', () => {
  it('sizes the pool one above the CPUs, at least 3', () => {
    expect(defaultPoolSize()).toBe(Math.max(3, availableParallelism() + 1));
  });
});

describe('the embedded database', () => {
  it('says which directory it could not create, and why, and leaves no database there', async () => {
    const dataDir = testDir('unmakeable');
    const target = path.join(dataDir, 'pgdata');
    mkdirSync(target);
    // A file where the new database needs a folder.
    writeFileSync(path.join(target, 'global'), 'not a folder');
    await expect(openDatabase({ dataDir })).rejects.toThrow(`could not create the embedded database in ${target}: ErrnoError (errno 54)`);
    expect(existsSync(path.join(target, 'PG_VERSION'))).toBe(false);
  });
});
