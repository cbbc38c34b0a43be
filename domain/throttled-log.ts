export interface ThrottledLogger {
  error(obj: object, msg?: string): void;
}

/**
 * An error on a request path that fails the same way for every request while the database is
 * away: logged at most once every `everyMs`, with how many were left out since the last line.
 */
export function createThrottledLog(logger: ThrottledLogger | undefined, everyMs = 5000, now: () => number = Date.now) {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (obj: { err: unknown } & Record<string, unknown>, msg: string): void => {
    const at = now();
    if (at - lastLogged < everyMs) {
      suppressed += 1;
      return;
    }
    logger?.error({ ...obj, suppressed }, msg);
    lastLogged = at;
    suppressed = 0;
  };
}
