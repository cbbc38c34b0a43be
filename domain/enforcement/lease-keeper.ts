import type { Db } from '../../db/client.ts';
import { settleLeases, type LeaseExtension, type LeaseSettlement } from '../../db/repos/sending-counters.ts';
import type { Clock } from '../clock.ts';
import { createLeaseBook, parseRecall } from './quota-leases.ts';

/** A lease that expired this long ago no longer holds another process's decision up (migration 0006). */
export const LEASE_GRACE_MS = 2000;
export const LEASE_RECALL_CHANNEL = 'sendguard_lease_recall';
/** Reports kept for a retry while the database is away; beyond this the oldest go (their leases stay counted). */
const MAX_PENDING = 100_000;

export interface LeaseKeeperDeps {
  db: Db;
  clock: Clock;
  /** How often usage is written back and expired leases given back. */
  reportMs: number;
  /** A lease still in use is extended by this much at each report (0: never; see migration 0011). */
  extendMs: number;
  listen?: ((channel: string, onNotify: (payload: string) => void) => Promise<() => Promise<void>>) | undefined;
  onError(err: unknown): void;
}

/**
 * Holds this process's quota leases and writes their usage back: every `reportMs`, when another
 * process recalls a sender's lease, before counts are read here, and on stop. A report that
 * fails is kept and sent again; until it lands the lease stays counted in full, never less.
 */
export function createLeaseKeeper(deps: LeaseKeeperDeps) {
  const book = createLeaseBook();
  let pending: LeaseSettlement[] = [];
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: Promise<(() => Promise<void>) | undefined> | undefined;

  function report(settlements: readonly LeaseSettlement[]): void {
    if (settlements.length === 0) return;
    pending.push(...settlements);
    if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
  }

  async function send(): Promise<void> {
    report(book.due(deps.clock.now(), deps.extendMs));
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    let extended: LeaseExtension[];
    try {
      extended = await settleLeases(deps.db, batch);
    } catch (err) {
      pending = batch.concat(pending);
      throw err;
    }
    if (extended.length === 0) return;
    const reports = new Map(batch.map((s) => [s.lease, s]));
    for (const e of extended) {
      const s = reports.get(e.lease);
      if (s) book.extended(s, e);
    }
  }

  /** Writes back everything due now; concurrent callers share one round trip, then one more. */
  async function flush(): Promise<void> {
    while (flushing) await flushing.catch(() => undefined);
    flushing = send().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  function tick(): void {
    flush().catch(deps.onError);
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
