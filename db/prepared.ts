import type { Db } from './client.ts';

const byDb = new WeakMap<Db, Map<string, unknown>>();

/**
 * drizzle builds a query's SQL text from its expression tree on every call, walking the tree with
 * prototype checks. For the console's restriction list that took about a ninth of the API
 * process's time: more than the page and its count cost at the database. A query whose shape
 * repeats is built once per database handle, with placeholders, and only executed after that.
 * `shape` must name everything that changes the statement's text; values go in as placeholders.
 */
export function preparedOnce<T>(db: Db, shape: string, build: () => T): T {
  let statements = byDb.get(db);
  if (!statements) byDb.set(db, (statements = new Map()));
  let statement = statements.get(shape) as T | undefined;
  if (statement === undefined) {
    statement = build();
    statements.set(shape, statement);
  }
  return statement;
}
