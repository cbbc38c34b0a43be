import type { Db } from '../../db/client.ts';
import { lockDueRestrictions } from '../../db/repos/restrictions.ts';
import type { Clock } from '../clock.ts';
import { createFailureLog, type FailureLogger } from '../failure-log.ts';
import { expireRestriction } from './restriction-service.ts';

const BATCH = 200;

/** Ends temporary restrictions (BlockUserForToday, service limits) whose time is up. */
export function createExpiryScheduler(deps: { db: Db; clock: Clock; intervalMs: number; logger?: FailureLogger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  const runs = createFailureLog(deps.logger, 'expiry run');

  /** Expires everything due at the clock's current time; returns how many were expired. */
  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.clock.now();
      const expired = await deps.db.transaction(async (tx) => {
        const due = await lockDueRestrictions(tx, now, BATCH);
        for (const r of due) await expireRestriction(tx, r, now);
        return due.length;
      });
      total += expired;
      if (expired < BATCH) return total;
    }
  }

  function tick(): void {
    running = runOnce()
      .then((n) => {
        runs.succeeded();
        if (n > 0) deps.logger?.info({ expired: n }, 'temporary restrictions expired');
        return n;
      })
      .catch((err: unknown) => {
        runs.failed(err);
        return 0;
      })
      .finally(() => {
        if (timer) timer = setTimeout(tick, deps.intervalMs);
      });
  }

  return {
    runOnce,
    start(): void {
      timer = setTimeout(tick, 0);
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
