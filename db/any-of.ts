import { sql, type Column, type SQL } from 'drizzle-orm';

/**
 * `column = any($1::type[])`, the values sent as one array parameter. Unlike `inArray`, the
 * statement's text does not depend on how many values there are, so one prepared statement
 * serves every page size. No values match nothing.
 */
export function anyOf(column: Column, values: readonly (string | number)[]): SQL {
  const type = ELEMENT_TYPES[column.getSQLType()] ?? column.getSQLType();
  return sql`${column} = any(${sql.param([...values])}::${sql.raw(type)}[])`;
}

/** Column types that are not type names of their own. */
const ELEMENT_TYPES: Readonly<Record<string, string>> = { serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' };
