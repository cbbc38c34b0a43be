import { connectionFailures } from './connection-failures.ts';

/**
 * The PostgreSQL server DATABASE_URL names could not be reached, or refused the connection, at
 * start-up: `serve` and `migrate` say so in one line and exit 1. The setting may be right and the
 * server down, so this is not a configuration error (exit 2).
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** The URL without its password, as it may be shown. */
function shown(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * The error to report when opening the database at `databaseUrl` failed with `err`, or undefined
 * when it is not a failure to connect (a fault of the migrations, say, keeps its stack trace).
 */
export function databaseUnavailable(databaseUrl: string, err: unknown): DatabaseUnavailableError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const where = `the database at ${shown(databaseUrl)}`;
  if (connectionFailures[code]) return new DatabaseUnavailableError(`cannot reach ${where}: ${connectionFailures[code]} (${code}); is PostgreSQL running there? Check DATABASE_URL`);
  // PostgreSQL's own refusals of a connection: class 28 (authentication, no such role), 3D000 (no
  // such database), 57P03 (starting up, shutting down, not accepting connections).
  const refused = code.startsWith('28') || code === '3D000' || code === '57P03';
  if (refused && err instanceof Error && err.name === 'PostgresError') return new DatabaseUnavailableError(`cannot open ${where}: ${err.message} (${code}); check DATABASE_URL`);
  return undefined;
}
