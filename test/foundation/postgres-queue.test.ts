import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.ts';
import { createTestDatabase, needsPostgres, onPostgres, postgresUrl } from '../helpers/db.ts';

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

// The module postgres.js's pool is built from (scripts/patch-postgres.js fixes it at install).
const packageRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
const { default: Queue } = (await import(pathToFileURL(path.join(packageRoot, 'src', 'queue.js')).href)) as { default: <T>(initial?: T[]) => Queue<T> };

/** How many array elements `indexOf` looks at while `f` runs. */
function elementsSearched(f: () => void): number {
  const indexOf = Array.prototype.indexOf;
  let searched = 0;
  Array.prototype.indexOf = function (this: unknown[], x: unknown, from = 0) {
    searched += this.length - from;
    return indexOf.call(this, x, from);
  };
  try {
    f();
  } finally {
    Array.prototype.indexOf = indexOf;
  }
  return searched;
}

describe("postgres.js's connection pool", () => {
  it('keeps its order through shift, push and remove', () => {
    const q = Queue(['a', 'b', 'c', 'd']);
    expect(q.shift()).toBe('a');
    expect(q.remove('c')).toBe('c');
    expect(q.remove('a')).toBeNull();
    q.push('e');
    expect([q.length, q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 'b', 'd', 'e', undefined]);
  });

  it('neither keeps nor searches the connections it handed out, however long its idle queue never runs empty', () => {
    // A pool with three idle connections: each query takes the first and gives it back (move() removes it first).
    const idle = Queue(['c1', 'c2', 'c3']);
    for (let i = 0; i < 10_000; i++) {
      const connection = idle.shift() as string;
      idle.remove(connection);
      idle.push(connection);
    }
    const taken = idle.shift() as string;
    expect(elementsSearched(() => idle.remove(taken))).toBeLessThan(100);
    expect(idle.length).toBe(2);
  });

  it.skipIf(!onPostgres)('serves bursts and a steady trickle of queries on a pool with idle connections, every answer right', async () => {
    const sql = postgres(postgresUrl as string, { max: 4, onnotice: () => {} });
    try {
      const burst = await Promise.all([1, 2, 3, 4].map((n) => sql<{ n: number }[]>`select ${n}::int as n`));
      expect(burst.map(([row]) => row?.n)).toEqual([1, 2, 3, 4]);
      for (let n = 0; n < 300; n++) {
        const [row] = await sql<{ n: number }[]>`select ${n}::int as n`;
        expect(row?.n).toBe(n);
      }
    } finally {
      await sql.end();
    }
  });

  it.skipIf(!onPostgres)(`answers the query after one the server cut off with the server's refusal, not by hanging while the database refuses connections (${needsPostgres})`, async () => {
    const database = await createTestDatabase({ maxConnections: 1 });
    const name = new URL(database.url!).pathname.slice(1);
    const admin = postgres(postgresUrl as string, { max: 1, onnotice: () => {} });
    // drizzle wraps the driver's error: its cause holds the code.
    const settled = (query: Promise<unknown>) => query.then(() => 'answered', (err: { cause?: { code?: string } }) => `refused: ${err.cause?.code}`);
    try {
      const sleeping = settled(database.db.execute(sql`select pg_sleep(30)`));
      await waitUntil(async () => (await admin`select 1 from pg_stat_activity where datname = ${name} and query like 'select pg_sleep%'`).length === 1, 'the query to run');
      await admin.unsafe(`alter database ${name} allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      expect(await sleeping).toBe('refused: CONNECTION_CLOSED');
      // The pool's one connection was cut off under the first query; the next one opens it again.
      // It used to keep reconnecting for as long as the refusals lasted, and never settled.
      const next = settled(database.db.execute(sql`select 1`));
      const outcome = await Promise.race([next, new Promise((resolve) => setTimeout(resolve, 20_000, 'still waiting after 20 s'))]);
      expect(outcome).toBe('refused: 55000');
      await admin.unsafe(`alter database ${name} allow_connections true`);
      expect(await settled(database.db.execute(sql`select 1`))).toBe('answered');
    } finally {
      await admin.unsafe(`alter database ${name} allow_connections true`);
      await admin.end();
      await database.close();
    }
  });
});
