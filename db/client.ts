import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { TransactionRollbackError, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import * as tables from './tables.ts';

export type Tables = typeof tables;
/** A drizzle database or transaction; repos take either. */
export type Db = PgDatabase<PgQueryResultHKT, Tables>;

export interface Database {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** Connections it holds at most: the pool's size on PostgreSQL, one embedded. */
  readonly connections: number;
  /** Runs a raw statement and returns its rows, the same way on both drivers. */
  rows<T>(query: SQL): Promise<T[]>;
  /** LISTEN on a channel; resolves once listening. Returns the function that stops it. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const MIGRATION_LOCK = 7_336_411_001;

export async function rowsOf<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

/**
 * Runs `work` in a transaction that is then rolled back: every statement runs, and every check
 * with it (constraints included), and nothing is kept. Returns what `work` returned.
 */
export async function rolledBack<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  let done: { value: T } | undefined;
  try {
    await db.transaction(async (tx) => {
      done = { value: await work(tx) };
      tx.rollback();
    });
  } catch (err) {
    if (!(err instanceof TransactionRollbackError) || !done) throw err;
  }
  if (!done) throw new Error('the rolled-back transaction did not run');
  return done.value;
}

/** `work` in a transaction, kept; or, for a dry run, rolled back (see `rolledBack`). */
export function transactionOrDryRun<T>(db: Db, dryRun: boolean | undefined, work: (tx: Db) => Promise<T>): Promise<T> {
  return dryRun ? rolledBack(db, work) : db.transaction(work);
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; `memory` keeps it in memory (tests). */
  dataDir: string | 'memory';
  /** Connections to PostgreSQL (default: defaultPoolSize()). */
  maxConnections?: number | undefined;
  migrate?: boolean;
  /** Called with every statement drizzle sends (tests count queries with it). */
  logQuery?: (query: string, params: unknown[]) => void;
}

/**
 * Connections a process keeps to PostgreSQL unless told otherwise: one more than this machine's
 * CPUs, at least 3. PostgreSQL runs one statement at a time per connection and wakes a backend
 * for each round trip. With more connections than it has cores to run them, queries that arrive
 * together each take an idle connection of their own: a write, a wakeup and a reply apiece. With
 * few, postgres.js pipelines them on a busy connection: one write carries several, and one
 * backend answers them in one wakeup. On a 2-core machine, 3 connections instead of 10 cut
 * PostgreSQL's CPU per GraphQL page by 30–47 % and raised the pages served by 12–76 % (README,
 * Performance).
 */
export function defaultPoolSize(): number {
  return Math.max(3, availableParallelism() + 1);
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const logger = options.logQuery ? { logQuery: options.logQuery } : undefined;
  const database = options.databaseUrl ? await openPostgres(options.databaseUrl, options.maxConnections ?? defaultPoolSize(), logger) : await openPglite(options.dataDir, logger);
  if (options.migrate !== false) await migrateDatabase(database);
  return database;
}

type QueryLogger = { logQuery: (query: string, params: unknown[]) => void } | undefined;

/**
 * postgres.js sends a statement that is not prepared as Parse and Describe, waits for the
 * parameter types, and only then sends Bind and Execute: two round trips and two writes for every
 * query drizzle runs unnamed. A prepared statement takes one round trip after its first use on a
 * connection, so every statement is prepared. PostgreSQL plans a prepared statement's first five
 * executions for their own parameters and only then keeps a generic plan, if it is estimated to
 * cost no more. `plan_cache_mode = force_custom_plan` is not set: it also re-plans every statement
 * inside the plpgsql counting function on every call (database-decided recipients went from about
 * 2,400 to 1,400 per second with it).
 */
function preparingEveryStatement<T extends postgres.Sql | postgres.TransactionSql>(sql: T): T {
  const inTransaction = (name: 'begin' | 'savepoint') => (...args: unknown[]) => {
    const last = args.length - 1;
    const body = args[last] as (tx: postgres.TransactionSql) => unknown;
    args[last] = (tx: postgres.TransactionSql) => body(preparingEveryStatement(tx));
    return (Reflect.get(sql, name) as (...a: unknown[]) => unknown).apply(sql, args);
  };
  const overrides: Record<PropertyKey, unknown> = {
    unsafe: (query: string, parameters?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
      sql.unsafe(query, parameters, { ...options, prepare: true }),
    begin: inTransaction('begin'),
    savepoint: inTransaction('savepoint'),
  };
  return new Proxy(sql, { get: (target, prop, receiver) => (Object.hasOwn(overrides, prop) ? overrides[prop] : Reflect.get(target, prop, receiver)) as unknown });
}

/**
 * The driver of the database not in use is never loaded (each is imported when opened): a process
 * on the embedded database holds no PostgreSQL client, and one on PostgreSQL no WebAssembly.
 */
async function loadPostgresDriver() {
  const [{ default: postgres }, { drizzle }] = await Promise.all([import('postgres'), import('drizzle-orm/postgres-js')]);
  return { postgres, drizzlePostgres: drizzle };
}

async function openPostgres(url: string, max: number, logger: QueryLogger): Promise<Database & { sql: postgres.Sql; url: string }> {
  const { postgres, drizzlePostgres } = await loadPostgresDriver();
  const sql = postgres(url, { max, onnotice: () => {}, idle_timeout: 30, connect_timeout: 5 });
  const db = drizzlePostgres(preparingEveryStatement(sql), { schema: tables, logger }) as unknown as Db;
  return {
    sql,
    url,
    db,
    kind: 'postgres',
    connections: max,
    rows: (query) => rowsOf(db, query),
    async listen(channel, onNotify) {
      const sub = await sql.listen(channel, onNotify);
      return () => sub.unlisten();
    },
    async ping() {
      await sql`select 1`;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

async function openPglite(dataDir: string, logger: QueryLogger): Promise<Database & { pglite: PGlite }> {
  let target: string | undefined;
  if (dataDir !== 'memory') {
    target = path.join(dataDir, 'pgdata');
    mkdirSync(target, { recursive: true });
    if (!existsSync(path.join(target, 'PG_VERSION'))) await createPgliteDirectory(target);
  }
  // The extensions the migrations create (restriction search); PGlite only offers bundled ones.
  // Loaded only when used: the embedded database's modules are large and PostgreSQL deployments never need them.
  const [{ PGlite }, { btree_gin }, { pg_trgm }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'), import('@electric-sql/pglite/contrib/btree_gin'), import('@electric-sql/pglite/contrib/pg_trgm'), import('drizzle-orm/pglite'),
  ]);
  // The embedded database runs inside this process: a small buffer pool keeps the whole process
  // small (PostgreSQL's 128 MB default pool is sized for a server of its own).
  const pglite = await PGlite.create(target, {
    extensions: { pg_trgm, btree_gin },
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  });
  const db = drizzlePglite(pglite, { schema: tables, logger }) as unknown as Db;
  return {
    pglite,
    db,
    kind: 'pglite',
    connections: 1,
    rows: (query) => rowsOf(db, query),
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      await pglite.close();
    },
  };
}

/**
 * Creates a new embedded data directory in a short-lived child process. Creating one (initdb)
 * grows the embedded database's WebAssembly memory to about 340 MB, and that memory is never given
 * back; opening an existing directory takes about 150 MB. So the serving process only ever opens one.
 */
async function createPgliteDirectory(target: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  // The timer holds the child's event loop until the directory is made (see cli/event-loop.ts).
  const create = 'const held = setInterval(() => {}, 2 ** 30);' +
    'require(process.argv[1]).PGlite.create(process.argv[2]).then((db) => db.close())' +
    // PGlite's file-system errors are objects with a name and an errno, no message.
    '.then(() => clearInterval(held), (err) => {' +
    '  console.error(String((err && (err.message || (err.name && `${err.name} (errno ${err.errno})`))) || err)); process.exit(1); })';
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['-e', create, pglite, target], { timeout: 120_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`could not create the embedded database in ${target}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Applies the committed migrations; on PostgreSQL under an advisory lock, so processes may start together. */
export async function migrateDatabase(database: Database): Promise<void> {
  if ('pglite' in database) {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(database.db as never, { migrationsFolder });
    return;
  }
  const [{ postgres, drizzlePostgres }, { migrate: migratePostgres }] = await Promise.all([loadPostgresDriver(), import('drizzle-orm/postgres-js/migrator')]);
  // One connection, so the session-level lock covers every migration statement.
  const single = postgres((database as Database & { url: string }).url, { max: 1, onnotice: () => {} });
  try {
    await single`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(single), { migrationsFolder });
  } finally {
    await single.end({ timeout: 5 });
  }
}
