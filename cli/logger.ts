import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Longest statement text kept in a logged query error. */
const MAX_QUERY_CHARS = 1000;
/** How deep causes and wrapped errors are searched for query parameters. */
const MAX_DEPTH = 8;
/** How drizzle writes the parameters into a failed query's message: after the statement, to the end. */
const PARAMETERS_TEXT = /\nparams: [\s\S]*$/;

type QueryError = Error & { query: string; params: unknown[] };

function isQueryError(err: Error): err is QueryError {
  const { query, params } = err as Error & { query?: unknown; params?: unknown };
  return typeof query === 'string' && Array.isArray(params);
}

/** A copy of `err` (same prototype, so the log's `type` still names its class) with this message and stack. */
function copyOf(err: Error, message: string, stack: string, extra: object = {}): Error {
  const copy: Error = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err, extra);
  Object.defineProperties(copy, {
    message: { value: message, writable: true, configurable: true },
    stack: { value: stack, writable: true, configurable: true },
  });
  return copy;
}

function stackWith(err: Error, message: string): string {
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [`${err.name}: ${message}`, ...frames].join('\n');
}

function cleanQueryError(err: QueryError, depth: number): Error {
  const { query, params } = err;
  // PGlite's own error also carries the statement and its parameters, beside the database's message.
  if (!err.message.startsWith('Failed query: ')) {
    const copy = copyOf(err, err.message, err.stack ?? '');
    delete (copy as Partial<QueryError>).params;
    return copy;
  }
  const statement = query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query;
  const message = `Failed query: ${statement} (${params.length} parameter${params.length === 1 ? '' : 's'}, not logged)`;
  // The log keeps causes as text; the SQLSTATE is worth a field of its own.
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  const clean = copyOf(err, message, stackWith(err, message), { query: statement, ...(typeof code === 'string' ? { code } : {}) });
  delete (clean as Partial<QueryError>).params;
  if (err.cause instanceof Error && depth < MAX_DEPTH) Object.defineProperty(clean, 'cause', { value: withoutQueryParameters(err.cause, depth + 1), configurable: true });
  return clean;
}

/**
 * `err` without any query parameters, however deep. drizzle puts them in a failed query's message
 * (and so its stack): a batch of recipients or lease reports, megabytes after an outage, full of
 * addresses, and password hashes. GraphQL copies that message into the error it wraps the failure
 * in (`originalError`), and other errors may carry it as their `cause`. The statement text, the
 * database's own error and its SQLSTATE (`code`) stay.
 */
export function withoutQueryParameters(err: unknown, depth = 0): unknown {
  if (typeof err === 'string') return err.replace(PARAMETERS_TEXT, ' (parameters not logged)');
  if (!(err instanceof Error)) return err;
  if (isQueryError(err)) return cleanQueryError(err, depth);
  const { originalError, errors } = err as Error & { originalError?: unknown; errors?: unknown };
  // A cause chain may loop back on itself: past the depth, what is left is not logged.
  const inner = (e: unknown) => (depth < MAX_DEPTH ? withoutQueryParameters(e, depth + 1) : undefined);
  const nested = {
    ...(err.cause instanceof Error ? { cause: inner(err.cause) } : {}),
    ...(originalError instanceof Error ? { originalError: inner(originalError) } : {}),
    ...(Array.isArray(errors) ? { errors: errors.map(inner) } : {}),
  };
  const leaks = PARAMETERS_TEXT.test(err.message) || PARAMETERS_TEXT.test(err.stack ?? '');
  const changed = leaks || Object.entries(nested).some(([key, value]) => value !== (err as unknown as Record<string, unknown>)[key]);
  if (!changed) return err;
  // A GraphQL error says what its original error says.
  const message = !leaks ? err.message : originalError instanceof Error && err.message === originalError.message ? (nested.originalError as Error).message : err.message.replace(PARAMETERS_TEXT, ' (parameters not logged)');
  const clean = copyOf(err, message, leaks ? stackWith(err, message) : (err.stack ?? ''));
  for (const [key, value] of Object.entries(nested)) Object.defineProperty(clean, key, { value, configurable: true });
  // The log follows causes, not GraphQL's originalError: the database's own message is the cause's.
  if (leaks && err.cause === undefined && nested.originalError instanceof Error) {
    const { cause, code } = nested.originalError as Error & { code?: unknown };
    Object.defineProperty(clean, 'cause', { value: cause, configurable: true });
    if (typeof code === 'string') Object.assign(clean, { code });
  }
  return clean;
}

/** JSON logs on stderr, so stdout stays for command output. */
export function createLogger(level: string, destination: DestinationStream = pino.destination(2)): Logger {
  return pino(
    { level, base: { service: 'sendguard' }, serializers: { err: (err: unknown) => pino.stdSerializers.err(withoutQueryParameters(err) as Error) } },
    destination,
  );
}
