import type { Db } from '../../db/client.ts';
import { findAlertsByIds, type Alert, type Notification } from '../../db/repos/alerts.ts';
import {
  claimDueNotifications,
  markNotificationFailed,
  markNotificationRetry,
  markNotificationSent,
  type NotificationChannel,
} from '../../db/repos/notifications.ts';
import type { Clock } from '../clock.ts';
import { createFailureLog } from '../failure-log.ts';
import { PermanentDeliveryError } from './errors.ts';

/**
 * Delivers one notification; resolves only once the channel accepted it. Throw
 * `PermanentDeliveryError` when retrying cannot help; anything else is retried with backoff.
 * `signal` aborts when the worker stops: stop waiting (throttling, backoff) and throw, so the
 * notification is tried again later instead of holding the shutdown up.
 */
export type NotificationDeliverer = (notification: Notification, alert: Alert, signal: AbortSignal) => Promise<void>;

/** The hook the Teams bot implements: post the alert to the conversation named in `notification.recipient`. */
export interface TeamsNotificationHook {
  deliverTeams(notification: Notification, alert: Alert, signal?: AbortSignal): Promise<void>;
}

export interface NotificationWorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NotificationWorkerOptions {
  db: Db;
  clock: Clock;
  /** Channels without a deliverer are left `Pending` until a process that has one picks them up. */
  deliverers: Partial<Record<NotificationChannel, NotificationDeliverer>>;
  logger?: NotificationWorkerLogger | undefined;
  pollMs?: number;
  batchSize?: number;
  /** How long a claimed notification stays reserved for its worker; must exceed a delivery's timeout. */
  leaseMs?: number;
  backoff?: { baseMs: number; maxMs: number };
}

export interface WorkerRun {
  sent: number;
  retried: number;
  failed: number;
}

const DEFAULTS = { pollMs: 5_000, batchSize: 20, leaseMs: 10 * 60_000, backoff: { baseMs: 10_000, maxMs: 60 * 60_000 } };

/** Exponential backoff after the n-th failed attempt (n ≥ 1), capped. */
export function retryDelayMs(attempts: number, backoff: { baseMs: number; maxMs: number }): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Delivers the notification outbox. A notification is claimed (leased) in a short transaction
 * with SKIP LOCKED, delivered outside any transaction, and marked `Sent` only after the channel
 * accepted it. A crash or outage leaves it due again: delayed, never lost. The one duplicate
 * left possible (a crash after the server accepted, before the mark) carries the same
 * Message-ID, so receivers can drop it.
 */
export function createNotificationWorker(options: NotificationWorkerOptions) {
  const { db, clock, deliverers, logger } = options;
  const settings = {
    pollMs: options.pollMs ?? DEFAULTS.pollMs,
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
    backoff: options.backoff ?? DEFAULTS.backoff,
  };
  const channels = (Object.keys(deliverers) as NotificationChannel[]).filter((c) => deliverers[c] !== undefined);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<WorkerRun> | undefined;
  const runs = createFailureLog(logger, 'notification run');
  let again = false;
  let started = false;
  let stopping = new AbortController();

  async function attempt(n: Notification, alert: Alert | undefined): Promise<unknown> {
    const deliverer = deliverers[n.channel];
    try {
      if (!deliverer || !alert) throw new PermanentDeliveryError(alert ? `no deliverer for ${n.channel}` : `alert ${n.alertId} is gone`);
      await deliverer(n, alert, stopping.signal);
      return undefined;
    } catch (err) {
      return err ?? new Error('delivery failed');
    }
  }

  async function deliver(n: Notification, alert: Alert | undefined, run: WorkerRun): Promise<void> {
    const err = await attempt(n, alert);
    if (err === undefined) {
      await markNotificationSent(db, n, clock.now());
      run.sent += 1;
      return;
    }
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    if (err instanceof PermanentDeliveryError) {
      await markNotificationFailed(db, n, message);
      run.failed += 1;
      logger?.error({ notificationId: n.id, channel: n.channel, recipient: n.recipient, err: message }, 'notification failed for good');
      return;
    }
    const retryAt = new Date(clock.now().getTime() + retryDelayMs(n.attempts, settings.backoff));
    await markNotificationRetry(db, n, retryAt, message);
    run.retried += 1;
    logger?.warn({ notificationId: n.id, channel: n.channel, attempts: n.attempts, retryAt, err: message }, 'notification delivery failed; will retry');
  }

  /** Delivers everything due now; returns what happened. */
  async function runOnce(): Promise<WorkerRun> {
    const run: WorkerRun = { sent: 0, retried: 0, failed: 0 };
    for (;;) {
      const now = clock.now();
      const claimed = await claimDueNotifications(db, { channels, now, leaseUntil: new Date(now.getTime() + settings.leaseMs), limit: settings.batchSize });
      const alerts = new Map((await findAlertsByIds(db, [...new Set(claimed.map((n) => n.alertId))])).map((a) => [a.id, a]));
      for (const n of claimed) await deliver(n, alerts.get(n.alertId), run);
      if (claimed.length < settings.batchSize) return run;
    }
  }

  function tick(): void {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .then((run) => {
        runs.succeeded();
        return run;
      })
      .catch((err: unknown) => {
        runs.failed(err);
        return { sent: 0, retried: 0, failed: 0 };
      })
      .finally(() => {
        running = undefined;
        if (!started) return;
        if (again) {
          again = false;
          tick();
        } else timer = setTimeout(tick, settings.pollMs);
      });
  }

  return {
    runOnce,
    start(): void {
      if (started) return;
      started = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      tick();
    },
    /** Runs now instead of at the next poll (a new alert was raised). */
    wake(): void {
      if (started) tick();
    },
    async stop(): Promise<void> {
      started = false;
      clearTimeout(timer);
      stopping.abort();
      await running;
    },
  };
}

export type NotificationWorker = ReturnType<typeof createNotificationWorker>;
