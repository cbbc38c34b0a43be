import type { Db } from '../../db/client.ts';
import { pruneSendingHistory } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';
import { createFailureLog, type FailureLogger } from '../failure-log.ts';

const HOUR_MS = 3_600_000;

/**
 * Keeps the counting tables small: one-minute buckets older than the 24-hour window (plus an
 * hour), per-message recipient records after two days (Postfix retries within minutes), and
 * warning marks after two days. Several processes may run it; the deletes are idempotent.
 */
export function createHistoryPruner(deps: { db: Db; clock: Clock; intervalMs?: number; logger?: FailureLogger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const runs = createFailureLog(deps.logger, 'pruning sending history');

  async function runOnce(): Promise<number> {
    const now = deps.clock.now().getTime();
    return pruneSendingHistory(deps.db, { counters: new Date(now - 25 * HOUR_MS), recipients: new Date(now - 48 * HOUR_MS), warnings: new Date(now - 48 * HOUR_MS) });
  }

  function tick(): void {
    running = runOnce()
      .then((n) => {
        runs.succeeded();
        if (n > 0) deps.logger?.info({ rows: n }, 'old sending history pruned');
      })
      .catch(runs.failed)
      .finally(() => {
        if (timer) timer = setTimeout(tick, deps.intervalMs ?? 10 * 60_000);
      });
  }

  return {
    runOnce,
    start(): void {
      timer = setTimeout(tick, 60_000);
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
