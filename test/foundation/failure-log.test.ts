import { describe, expect, it } from 'vitest';
import { createFailureLog } from '../../domain/failure-log.ts';
import { captureLogs } from '../helpers/logs.ts';

describe('a background task that keeps failing', () => {
  it('is logged when it starts failing, once a minute while it goes on, and when it recovers, with the count and the time', () => {
    const { logger, entries } = captureLogs();
    let now = 1_000_000;
    const log = createFailureLog(logger, 'event catch-up', () => now);
    const down = new Error('database "sendguard" is not currently accepting connections');

    log.succeeded();
    // Every half second for a minute and a half.
    for (let i = 0; i < 181; i++, now += 500) log.failed(down);
    log.succeeded();
    log.succeeded();
    log.failed(new Error('connection refused'));
    logger.flush();

    const seen = entries().map((l) => [l.level, l.msg, l.failures, l.failingForMs ?? l.failedForMs, (l.err as { message?: string } | undefined)?.message]);
    expect(seen).toEqual([
      [40, 'event catch-up failed; will retry', undefined, undefined, down.message],
      [40, 'event catch-up still failing; will retry', 121, 60_000, down.message],
      [30, 'event catch-up recovered', 181, 90_500, undefined],
      [40, 'event catch-up failed; will retry', undefined, undefined, 'connection refused'],
    ]);
  });

  it('a task that never fails logs nothing', () => {
    const { logger, entries } = captureLogs();
    const log = createFailureLog(logger, 'expiry run');
    for (let i = 0; i < 10; i++) log.succeeded();
    logger.flush();
    expect(entries()).toEqual([]);
  });
});
