import { Kind, print, type ValueNode } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { parseIsoDateTime } from '../../domain/date-time.ts';
import { builder } from '../builder.ts';

const DATE_TIME_FORMAT = 'DateTime must be an existing ISO-8601 date and time with an offset, in the years 0001 to 9999 (UTC), such as 2026-11-26T10:00:00Z';

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
  if (!date) throw createGraphQLError(DATE_TIME_FORMAT, { extensions: { code: 'BAD_USER_INPUT' } });
  return date;
}

/** A value written in the document: graphql reports this error as it is, so it says itself which value and where. */
function parseDateTimeLiteral(ast: ValueNode): Date {
  const date = ast.kind === Kind.STRING ? parseIsoDateTime(ast.value) : undefined;
  if (!date) throw createGraphQLError(`Expected value of type "DateTime", found ${print(ast)}; ${DATE_TIME_FORMAT}`, { nodes: ast, extensions: { code: 'BAD_USER_INPUT' } });
  return date;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time, always returned in UTC (2026-11-26T10:00:00.000Z).',
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: parseDateTimeLiteral,
});

builder.scalarType('JSON', {
  description: 'Any JSON value (audit snapshots).',
  serialize: (value) => value,
  parseValue: (value) => value,
});
