import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Longest statement text kept in a logged query error. */
const MAX_QUERY_CHARS = 1000;

/**
 * A failed query's error without its parameters. drizzle puts them in the message (and so the
 * stack): a batch of recipients or lease reports, megabytes after an outage, and full of
 * addresses. The statement text, the database's own error and its SQLSTATE (`code`) stay.
 */
export function withoutQueryParameters(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const { query, params } = err as Error & { query?: unknown; params?: unknown };
  if (typeof query !== 'string' || !Array.isArray(params)) return err;
  const statement = query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query;
  const message = `Failed query: ${statement} (${params.length} parameter${params.length === 1 ? '' : 's'}, not logged)`;
  // Same prototype, so the log's `type` still names drizzle's error class.
  const clean: Error = Object.setPrototypeOf(new Error(message, { cause: err.cause }), Object.getPrototypeOf(err) as object);
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  clean.stack = [`${err.name}: ${message}`, ...frames].join('\n');
  // The log keeps causes as text; the SQLSTATE is worth a field of its own.
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return Object.assign(clean, { query: statement }, typeof code === 'string' ? { code } : {});
}

/** JSON logs on stderr, so stdout stays for command output. */
export function createLogger(level: string, destination: DestinationStream = pino.destination(2)): Logger {
  return pino(
    { level, base: { service: 'sendguard' }, serializers: { err: (err: unknown) => pino.stdSerializers.err(withoutQueryParameters(err) as Error) } },
    destination,
  );
}
