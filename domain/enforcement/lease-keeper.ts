import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db } from '../../db/client.ts';
import { settleLeases, type LeaseExtension, type LeaseSettlement } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';
import { createLeaseBook, parseRecall } from './quota-leases.ts';

/** A lease that expired this long ago no longer holds another process's decision up (migration 0006). */
export const LEASE_GRACE_MS = 2000;
export const LEASE_RECALL_CHANNEL = 'sendguard_lease_recall';

/**
 * How long a lease's usage may wait to be written back: each report updates its leases and records
 * their recipients, and writing every lease's usage four times a second was most of PostgreSQL's
 * work in bench scenario B (README, Performance). So another process sees a sender's counts at
 * most about this far behind. A lease close to running out is reported sooner, to be extended.
 */
export const REPORT_LAG_MS = 1000;

/**
 * How often the keeper looks for reports due unless configured: at least twice while a lease has
 * half an extension left, so one used then is extended in time; an expired lease's unused quota
 * is given back within this too.
 */
export function defaultReportMs(leaseMs: number): number {
  return Math.max(25, Math.min(250, Math.floor(leaseMs / 4)));
}
/**
 * A lease used with this little time left is reported within a tenth of a look instead of at the
 * next look, which may come only after it ended: two looks' time, and never more than the half
 * extension `due` reports within. A pass over many senders that takes nearly a lease period
 * (bench scenario C: one connection, 1,000 senders) first uses its earliest leases just before
 * they end; at the next look they could be gone, and each of those senders then needs the
 * database again.
 */
function nearEndMs(reportMs: number, extendMs: number): number {
  return Math.min(2 * reportMs, extendMs / 2);
}
/** Reports kept for a retry while the database is away; beyond this the oldest go (their leases stay counted). */
const MAX_PENDING = 100_000;
/**
 * Lease reports settled per transaction. Every lease in use is reported at each tick, and the
 * reports kept through an outage pile up; settling takes an advisory lock per sender, and the
 * lock table (max_locks_per_transaction × connections, some 10,000 locks by default) refuses a
 * transaction more ("out of shared memory"), so one big report would never land. Chunks always
 * do, and hold their senders' locks only briefly. The embedded database runs in this thread and
 * answers no request while it settles, so its chunks are smaller: about 13 ms for 100 leases.
 */
export const SETTLE_CHUNK = { postgres: 500, pglite: 100 } as const;

export interface LeaseKeeperDeps {
  db: Db;
  clock: Clock;
  /** How often the keeper looks for usage due to be written back (`REPORT_LAG_MS`) and expired leases to give back. */
  reportMs: number;
  /** A lease still in use is extended by this much at each report (0: never; see migration 0011). */
  extendMs: number;
  /** Lease reports settled per transaction (default SETTLE_CHUNK.postgres). */
  settleChunk?: number | undefined;
  listen?: ((channel: string, onNotify: (payload: string) => void) => Promise<() => Promise<void>>) | undefined;
  onError(err: unknown): void;
  /** A paced report landed (after failures: the trouble is over). */
  onReported?: (() => void) | undefined;
}

/**
 * Holds this process's quota leases and writes their usage back: at the looks every `reportMs`,
 * what is due (a second old, or a lease near its end); a lease used close to its end, within a
 * tenth of a look; one another process recalls, at once; all of it before counts are read here,
 * and on stop. A report that fails is kept and sent again; until it lands the lease stays
 * counted in full, never less.
 */
export function createLeaseKeeper(deps: LeaseKeeperDeps) {
  // Leases near their end used within a tenth of a look go back together, in one report.
  let hurrying = false;
  function hurry(): void {
    if (hurrying) return;
    hurrying = true;
    setTimeout(() => {
      paced().finally(() => {
        hurrying = false;
      });
    }, Math.ceil(deps.reportMs / 10)).unref();
  }
  const book = createLeaseBook(deps.extendMs > 0 ? { nearEndMs: nearEndMs(deps.reportMs, deps.extendMs), onNearEnd: hurry } : {});
  let pending: LeaseSettlement[] = [];
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: Promise<(() => Promise<void>) | undefined> | undefined;

  function report(settlements: readonly LeaseSettlement[]): void {
    if (settlements.length === 0) return;
    pending.push(...settlements);
    if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
  }

  const chunk = Math.max(1, deps.settleChunk ?? SETTLE_CHUNK.postgres);

  async function settle(reports: readonly LeaseSettlement[]): Promise<void> {
    const extended: LeaseExtension[] = await settleLeases(deps.db, reports);
    if (extended.length === 0) return;
    const byLease = new Map(reports.map((s) => [s.lease, s]));
    for (const e of extended) {
      const s = byLease.get(e.lease);
      if (s) book.extended(s, e);
    }
  }

  async function send(paced: boolean): Promise<void> {
    report(book.due(deps.clock.now(), deps.extendMs, paced ? REPORT_LAG_MS : 0));
    const batch = pending;
    pending = [];
    for (let from = 0; from < batch.length; from += chunk) {
      // Requests that arrived meanwhile go first (on the embedded database they wait otherwise).
      if (from > 0) await nextTurn();
      try {
        await settle(batch.slice(from, from + chunk));
      } catch (err) {
        // The chunks before this one are settled; this one and the rest are sent again.
        pending = batch.slice(from).concat(pending);
        throw err;
      }
    }
  }

  /**
   * Writes back what is due now (`paced`, at the timer's ticks) or all usage (a caller about to
   * read counts); a caller arriving during a write-back waits for it, then writes back what is left.
   */
  async function flush(paced = false): Promise<void> {
    while (flushing) await flushing.catch(() => undefined);
    flushing = send(paced).finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  function paced(): Promise<void> {
    return flush(true).then(() => deps.onReported?.(), deps.onError);
  }

  function tick(): void {
    void paced();
  }

  return {
    book,
    report,
    flush,
    /** A lease is held: makes sure usage is written back and recalls are heard. */
    held(): void {
      if (!timer) {
        timer = setInterval(tick, deps.reportMs);
        timer.unref();
      }
      if (!unlisten && deps.listen) {
        unlisten = deps
          .listen(LEASE_RECALL_CHANNEL, (payload) => {
            const who = parseRecall(payload);
            if (!who) return;
            const closed = book.close(who.tenantId, who.sender);
            if (closed.length === 0) return;
            report(closed);
            tick();
          })
          .catch((err: unknown) => {
            deps.onError(err);
            unlisten = undefined;
            return undefined;
          });
      }
    },
    /** Gives back the leases of a sender, a tenant or all (their limits or restriction changed). */
    close(tenantId?: string, sender?: string): void {
      report(book.close(tenantId, sender));
      if (pending.length > 0) tick();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      report(book.close());
      await flush().catch(deps.onError);
      const stopListening = await unlisten;
      unlisten = undefined;
      await stopListening?.().catch(deps.onError);
    },
  };
}

export type LeaseKeeper = ReturnType<typeof createLeaseKeeper>;
