export interface FailureLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** How often a failure that goes on is logged again. */
const REMIND_MS = 60_000;

/**
 * Logs a background task that retries (catching up on events, expiring restrictions, reporting
 * leases) once per outage instead of at every retry: the first failure with its error, a line
 * with the count every minute while it goes on, and the recovery with how long it lasted. A
 * database that is down for an hour leaves some sixty lines, not thousands of stack traces.
 */
export function createFailureLog(logger: FailureLogger | undefined, task: string, now: () => number = Date.now) {
  let since: number | undefined;
  let failures = 0;
  let loggedAt = 0;
  return {
    failed(err: unknown): void {
      failures += 1;
      const at = now();
      if (since === undefined) {
        since = at;
        loggedAt = at;
        logger?.warn({ err }, `${task} failed; will retry`);
      } else if (at - loggedAt >= REMIND_MS) {
        loggedAt = at;
        logger?.warn({ err, failures, failingForMs: at - since }, `${task} still failing; will retry`);
      }
    },
    succeeded(): void {
      if (since === undefined) return;
      logger?.info({ failures, failedForMs: now() - since }, `${task} recovered`);
      since = undefined;
      failures = 0;
    },
  };
}

export type FailureLog = ReturnType<typeof createFailureLog>;
