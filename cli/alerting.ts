import { isAlertEvent } from '../domain/alerts/alert-events.ts';
import type { TeamsNotificationHook } from '../domain/alerts/notification-worker.ts';
import type { StoredEvent } from '../domain/events/event-types.ts';
import type { Services } from './services.ts';

/** Events committed while no alert consumer ran are picked up on start if they are this recent. */
const CATCH_UP_MS = 60 * 60_000;
const RETRY_DELAYS_MS = [200, 1_000];

async function handleWithRetry(services: Services, event: StoredEvent): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await services.alerts.handleEvent(event);
      return;
    } catch (err) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw err;
      services.logger.warn({ err, eventId: event.id }, 'raising alerts failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Alerts in a running process (the `api` role): raises alerts from the event bus, catches up on
 * recent events committed while no consumer ran, and runs the notification worker. Safe in any
 * number of processes at once: each event is folded into its alert once, and the worker claims
 * notifications with SKIP LOCKED.
 */
export function startAlerting(services: Services, options: { teams?: TeamsNotificationHook } = {}): { name: string; stop(): Promise<void> } {
  const worker = services.notificationWorker(options.teams);
  const throughId = services.events.lastDeliveredId;
  const since = new Date(services.clock.now().getTime() - CATCH_UP_MS);
  const catchingUp = services.alerts
    .catchUp({ since, throughId })
    .then(() => worker.wake())
    .catch((err: unknown) => services.logger.error({ err }, 'alert catch-up failed'));
  const unsubscribe = services.events.subscribe(async (event) => {
    if (isAlertEvent(event.type)) {
      if (event.type === 'AlertRaised') worker.wake();
      return;
    }
    // Live events wait for the catch-up: one process must handle a stream's events in id order,
    // or an older event would find a newer one already folded in and be skipped.
    await catchingUp;
    await handleWithRetry(services, event);
  });
  worker.start();
  return {
    name: 'alerts',
    async stop() {
      unsubscribe();
      await catchingUp;
      await worker.stop();
    },
  };
}
