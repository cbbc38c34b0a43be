import { Kind } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { parseIsoDateTime } from '../../domain/date-time.ts';
import { builder } from '../builder.ts';

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
  if (!date) {
    const message = 'DateTime must be an existing ISO-8601 date and time with an offset, in the years 0001 to 9999 (UTC), such as 2026-11-26T10:00:00Z';
    throw createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time, always returned in UTC (2026-11-26T10:00:00.000Z).',
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType('JSON', {
  description: 'Any JSON value (audit snapshots).',
  serialize: (value) => value,
  parseValue: (value) => value,
});
