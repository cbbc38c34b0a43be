import type { Database } from '../../db/client.ts';
import { lastEventId, readEventsAfter } from '../../db/repos/events.ts';
import { createFailureLog } from '../failure-log.ts';
import { EVENTS_CHANNEL, type StoredEvent } from './event-types.ts';

type Handler = (event: StoredEvent) => void | Promise<void>;

export interface EventBusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const BATCH = 500;

/**
 * Delivers committed events to in-process subscribers in id order. A NOTIFY (carrying the id)
 * wakes it at once; a poll catches up after a lost notification or a reconnect, so no
 * committed event is missed and none is delivered twice.
 */
export function createEventBus(deps: { database: Database; pollMs: number; logger?: EventBusLogger }) {
  const { database } = deps;
  const handlers = new Set<Handler>();
  let delivered = 0;
  let pumping: Promise<void> | undefined;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let started = false;
  const catchUp = createFailureLog(deps.logger, 'event catch-up');

  async function drain(): Promise<void> {
    for (;;) {
      const batch = await readEventsAfter(database.db, delivered, BATCH);
      for (const event of batch) {
        delivered = event.id;
        for (const handler of handlers) {
          try {
            await handler(event);
          } catch (err) {
            deps.logger?.error({ err, eventId: event.id }, 'event handler failed');
          }
        }
      }
      if (batch.length < BATCH) return;
    }
  }

  /** Runs one drain at a time; a wake-up during a drain runs another right after it. */
  function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      do {
        again = false;
        await drain().then(catchUp.succeeded, catchUp.failed);
      } while (again);
    })().finally(() => {
      pumping = undefined;
    });
    return pumping;
  }

  return {
    async start(): Promise<void> {
      if (started) return;
      started = true;
      delivered = await lastEventId(database.db);
      unlisten = await database.listen(EVENTS_CHANNEL, () => void pump());
      const tick = () => {
        poll = setTimeout(() => void pump().finally(() => started && tick()), deps.pollMs);
      };
      tick();
    },
    /** Subscribes to events committed after the bus started. Returns the unsubscribe function. */
    subscribe(handler: Handler): () => void {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    /** Delivers everything committed so far (tests and shutdown). */
    flush: () => pump(),
    get lastDeliveredId(): number {
      return delivered;
    },
    /** Whether an event with this id has been committed, here or by another process. */
    async committed(id: number): Promise<boolean> {
      return id <= delivered || id <= (await lastEventId(database.db));
    },
    async stop(): Promise<void> {
      started = false;
      clearTimeout(poll);
      await unlisten?.().catch(() => undefined);
      await pumping;
    },
  };
}

export type EventBus = ReturnType<typeof createEventBus>;

/**
 * A resumable stream for one subscriber: everything after `afterId` (from the table), then live
 * events, in order, each once. Without `afterId` it starts at the bus's current position.
 */
export async function* streamEvents(
  deps: { database: Database; bus: EventBus },
  options: { tenantId: string; afterId?: number | undefined; signal?: AbortSignal | undefined },
): AsyncGenerator<StoredEvent> {
  const queue: StoredEvent[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.tenantId !== options.tenantId) return;
    queue.push(event);
    wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    let last = options.afterId ?? deps.bus.lastDeliveredId;
    for (;;) {
      const backlog = await readEventsAfter(deps.database.db, last, BATCH, options.tenantId);
      for (const event of backlog) {
        last = event.id;
        yield event;
      }
      if (backlog.length < BATCH) break;
    }
    while (!options.signal?.aborted) {
      const event = queue.shift();
      if (!event) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (event.id <= last) continue;
      last = event.id;
      yield event;
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', onAbort);
  }
}
