import { isAlertEvent } from '../domain/alerts/alert-events.ts';
import { alertSourceEventTypes } from '../domain/alerts/alert-signals.ts';
import type { TeamsNotificationHook } from '../domain/alerts/notification-worker.ts';
import type { StoredEvent } from '../domain/events/event-types.ts';
import { createFailureLog } from '../domain/failure-log.ts';
import type { Services } from './services.ts';

/** Events committed while no alert consumer ran are picked up on start if they are this recent. */
const CATCH_UP_MS = 60 * 60_000;
/** Waits between attempts while raising alerts fails; the last one repeats. */
const RETRY_DELAYS_MS = [200, 1_000, 2_000, 5_000, 10_000, 30_000];
/** Events held while raising alerts fails; past it the oldest are left to a start's catch-up. */
const MAX_WAITING = 100_000;

const isAlertSource = (type: string) => (alertSourceEventTypes as readonly string[]).includes(type);

interface Waiting {
  event: StoredEvent;
  /** Lets the event bus go on: the event is handled, or raising alerts is failing. */
  release(): void;
}

/**
 * Alerts in a running process (the `api` role): raises alerts from the event bus, catches up on
 * recent events committed while no consumer ran, and runs the notification worker. Safe in any
 * number of processes at once: each event is folded into its alert once, and the worker claims
 * notifications with SKIP LOCKED.
 *
 * Events are handled one at a time, in id order, the catch-up first: an older event handled after
 * a newer one would find it already folded in and be skipped. One that fails (the database is
 * away) is tried again, with the events after it waiting behind it, until it is handled: an alert
 * is delayed by an outage, never dropped. Meanwhile the bus goes on to its other subscribers.
 */
export function startAlerting(services: Services, options: { teams?: TeamsNotificationHook; maxWaiting?: number } = {}): { name: string; stop(): Promise<void> } {
  const { logger } = services;
  const worker = services.notificationWorker(options.teams);
  const failures = createFailureLog(logger, 'raising alerts');
  const throughId = services.events.lastDeliveredId;
  const since = new Date(services.clock.now().getTime() - CATCH_UP_MS);
  const waiting: Waiting[] = [];
  const maxWaiting = options.maxWaiting ?? MAX_WAITING;
  let caughtUp = false;
  let failing = false;
  let stopping = false;
  let working = false;
  let running: Promise<void> = Promise.resolve();
  let interrupt: (() => void) | undefined;

  async function handleNext(): Promise<void> {
    if (!caughtUp) {
      await services.alerts.catchUp({ since, throughId });
      caughtUp = true;
      worker.wake();
      return;
    }
    const next = waiting[0] as Waiting;
    await services.alerts.handleEvent(next.event);
    // Unless it was dropped meanwhile as the oldest of too many (see hold).
    if (waiting[0] === next) waiting.shift();
    next.release();
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      interrupt = () => (clearTimeout(timer), resolve());
    });
  }

  // `working` changes with no await around it, so an event pushed once the loop has looked is picked up by a new loop.
  async function work(): Promise<void> {
    working = true;
    try {
      for (let failed = 0; !caughtUp || waiting.length > 0; ) {
        try {
          await handleNext();
          failures.succeeded();
          failing = false;
          failed = 0;
        } catch (err) {
          failures.failed(err);
          failing = true;
          for (const w of waiting) w.release();
          if (stopping) return;
          await pause(RETRY_DELAYS_MS[Math.min(failed++, RETRY_DELAYS_MS.length - 1)] as number);
        }
      }
    } finally {
      working = false;
    }
  }

  function kick(): void {
    if (!working) running = work();
  }

  let dropped = 0;
  function hold(event: StoredEvent): Promise<void> {
    if (waiting.length >= maxWaiting) {
      const oldest = waiting.shift() as Waiting;
      oldest.release();
      if (dropped++ % 1000 === 0) {
        logger.error({ eventId: oldest.event.id, dropped }, 'too many events wait for alerts; the oldest are left to the catch-up of a process that starts within the hour');
      }
    }
    return new Promise((release) => waiting.push({ event, release }));
  }

  kick();
  const unsubscribe = services.events.subscribe(async (event) => {
    if (isAlertEvent(event.type)) {
      if (event.type === 'AlertRaised') worker.wake();
      return;
    }
    if (!isAlertSource(event.type)) return;
    const handled = hold(event);
    kick();
    // While all is well the bus waits for the alert, so its flush() covers alerts too.
    if (!failing) await handled;
  });
  worker.start();
  return {
    name: 'alerts',
    async stop() {
      unsubscribe();
      // What is waiting is still handled if it can be; on the first failure it is left.
      stopping = true;
      interrupt?.();
      await running;
      if (waiting.length > 0 || !caughtUp) {
        logger.warn({ waiting: waiting.length, caughtUp }, 'stopped with events not yet folded into alerts; a process that starts within the hour catches up on them');
      }
      await worker.stop();
    },
  };
}
