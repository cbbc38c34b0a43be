import type { Db } from '../../db/client.ts';
import { pruneSendingHistory } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';

const HOUR_MS = 3_600_000;

export interface PrunerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Keeps the counting tables small: one-minute buckets older than the 24-hour window (plus an
 * hour), per-message recipient records after two days (Postfix retries within minutes), and
 * warning marks after two days. Several processes may run it; the deletes are idempotent.
 */
export function createHistoryPruner(deps: { db: Db; clock: Clock; intervalMs?: number; logger?: PrunerLogger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function runOnce(): Promise<number> {
    const now = deps.clock.now().getTime();
    return pruneSendingHistory(deps.db, { counters: new Date(now - 25 * HOUR_MS), recipients: new Date(now - 48 * HOUR_MS), warnings: new Date(now - 48 * HOUR_MS) });
  }

  function tick(): void {
    running = runOnce()
      .then((n) => {
        if (n > 0) deps.logger?.info({ rows: n }, 'old sending history pruned');
      })
      .catch((err: unknown) => deps.logger?.warn({ err }, 'pruning sending history failed; will retry'))
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
