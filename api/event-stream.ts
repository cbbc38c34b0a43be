import { streamEvents, type EventBus } from '../domain/events/event-bus.ts';
import { restrictionEventTypes, type RestrictionEventType, type StoredEvent } from '../domain/events/event-types.ts';
import { ValidationError } from '../domain/restrictions/errors.ts';
import { normalizeEntityKey } from '../domain/restrictions/restriction-service.ts';
import type { Database } from '../db/client.ts';

export interface RestrictionEventFilter {
  types?: readonly RestrictionEventType[] | null | undefined;
  senderAddress?: string | null | undefined;
  connectorId?: string | null | undefined;
}

const NOT_SENT = 'afterEventId (or Last-Event-ID) must be an eventId this API sent';

/** An event id as a client gives it back; one that is no number, or past the newest event, was never sent. */
async function sentEventId(bus: Pick<EventBus, 'committed'>, given: string): Promise<number> {
  if (!/^\d{1,15}$/.test(given.trim())) throw new ValidationError('afterEventId', NOT_SENT);
  const id = Number(given.trim());
  // Resuming after an id past the newest event would skip every event until the ids caught up with it.
  if (!(await bus.committed(id))) throw new ValidationError('afterEventId', NOT_SENT);
  return id;
}

/**
 * Where a subscription resumes: after the `afterEventId` argument or the SSE `Last-Event-ID`
 * header, the later of the two when both are given; absent = from now on. An SSE client that
 * reconnects repeats its first request, `afterEventId` and all, and adds the id of the last event
 * it received: that id is where it got to.
 */
export async function resumePoint(bus: Pick<EventBus, 'committed'>, afterEventId: string | null | undefined, lastEventIdHeader: string | null | undefined): Promise<number | undefined> {
  const given = [afterEventId, lastEventIdHeader].filter((id): id is string => typeof id === 'string' && id !== '');
  if (given.length === 0) return undefined;
  const ids = await Promise.all(given.map((id) => sentEventId(bus, id)));
  return Math.max(...ids);
}

function matches(event: StoredEvent, filter: RestrictionEventFilter): boolean {
  if (!(restrictionEventTypes as readonly string[]).includes(event.type)) return false;
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type as RestrictionEventType)) return false;
  if (filter.senderAddress && !(event.entityKind === 'user' && event.entityKey === normalizeEntityKey('user', filter.senderAddress))) return false;
  if (filter.connectorId && !(event.entityKind === 'connector' && event.entityKey === normalizeEntityKey('connector', filter.connectorId))) return false;
  return true;
}

async function* filtered(source: AsyncGenerator<StoredEvent>, wanted: (event: StoredEvent) => boolean): AsyncGenerator<StoredEvent> {
  for await (const event of source) if (wanted(event)) yield event;
}

/**
 * A tenant's events after `afterId` (missed ones from the table, then live ones) that `wanted`
 * accepts, in order, each once. Ends when the client goes away (`return()`), `signals` abort, or
 * the server stops. `return()` aborts first: the stream may be parked waiting for the next event.
 */
export function tenantEventStream(
  deps: { database: Database; bus: EventBus },
  options: { tenantId: string; afterId: number | undefined; wanted: (event: StoredEvent) => boolean; signals: (AbortSignal | undefined)[] },
): AsyncIterableIterator<StoredEvent> {
  const controller = new AbortController();
  const signals = options.signals.filter((signal): signal is AbortSignal => signal !== undefined);
  const stop = () => controller.abort();
  for (const signal of signals) signal.addEventListener('abort', stop, { once: true });
  // However the stream ends, the signals let go of it: the server's lives as long as the server.
  controller.signal.addEventListener('abort', () => {
    for (const signal of signals) signal.removeEventListener('abort', stop);
  }, { once: true });
  if (signals.some((signal) => signal.aborted)) stop();
  // Fixed now, at subscribe time, not when the client first pulls: nothing committed after the
  // subscription was accepted can be missed.
  const afterId = options.afterId ?? deps.bus.lastDeliveredId;
  const inner = filtered(streamEvents(deps, { tenantId: options.tenantId, afterId, signal: controller.signal }), options.wanted);
  return {
    async next() {
      try {
        const result = await inner.next();
        if (result.done) stop();
        return result;
      } catch (err) {
        stop();
        throw err;
      }
    },
    async return(value?: unknown) {
      controller.abort();
      return inner.return(value as never);
    },
    async throw(err?: unknown) {
      controller.abort();
      return inner.throw(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A tenant's restriction events that match `filter` (see `tenantEventStream`). */
export function restrictionEventStream(
  deps: { database: Database; bus: EventBus },
  options: { tenantId: string; afterId: number | undefined; filter: RestrictionEventFilter; signals: (AbortSignal | undefined)[] },
): AsyncIterableIterator<StoredEvent> {
  return tenantEventStream(deps, { ...options, wanted: (event) => matches(event, options.filter) });
}
