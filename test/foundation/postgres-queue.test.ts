import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { onPostgres, postgresUrl } from '../helpers/db.ts';

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

describe("postgres.js's connection queue", () => {
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
});
