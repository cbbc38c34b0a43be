import type { Logger } from '../cli/logger.ts';
import { ValidationError } from '../domain/restrictions/errors.ts';

/** Refusals of what a client sent: its mistake, not a fault of the service. */
const CLIENT_ERROR_CODES = new Set(['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX', 'QUERY_TOO_EXPENSIVE']);

/** What is worth logging of a client's mistake (no stack: it points into our code, not theirs), if `err` is one. */
function clientMistake(err: unknown): { code: string; message: string; path?: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  const located = err as Error & { originalError?: unknown; path?: readonly (string | number)[]; extensions?: Record<string, unknown> };
  const code = (located.originalError ?? err) instanceof ValidationError ? 'BAD_USER_INPUT' : located.extensions?.code;
  if (typeof code !== 'string' || !CLIENT_ERROR_CODES.has(code)) return undefined;
  return { code, message: err.message, ...(located.path ? { path: located.path.join('.') } : {}) };
}

/**
 * yoga's log, into ours. yoga logs as errors every error it masks or rewrites; a client's mistake
 * (bad input, a refused query) gets an info line instead, so error alerts fire only on the
 * unexpected failures, which keep their details.
 */
export function yogaLogging(log: Logger) {
  return {
    debug: (...args: unknown[]) => log.debug({ args }, 'yoga'),
    info: (...args: unknown[]) => log.info({ args }, 'yoga'),
    warn: (...args: unknown[]) => log.warn({ args }, 'yoga'),
    error: (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error);
      const mistake = clientMistake(err);
      if (mistake) log.info(mistake, 'graphql request refused');
      else log.error({ err, args: args.filter((a) => !(a instanceof Error)) }, 'graphql request failed');
    },
  };
}
