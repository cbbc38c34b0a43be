import { sql, type Column, type SQL } from 'drizzle-orm';

/**
 * `column = any($1::type[])`, the values sent as one array parameter. Unlike `inArray`, the
 * statement's text does not depend on how many values there are, so one prepared statement
 * serves every page size. No values match nothing.
 */
export function anyOf(column: Column, values: readonly (string | number)[]): SQL {
  return sql`${column} = any(${sql.param([...values])}::${sql.raw(column.getSQLType())}[])`;
}
