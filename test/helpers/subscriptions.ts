import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface SseEvent {
  id?: string;
  event: string;
  data: { data?: Record<string, Record<string, unknown>> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A GraphQL subscription over SSE (POST, `accept: text/event-stream`), read event by event. */
export async function openSse(url: string, token: string, query: string, options: { variables?: Record<string, unknown>; lastEventId?: string } = {}) {
  const abort = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }), signal: abort.signal });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  async function next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
        if (!fields.event) continue;
        if (fields.event === 'complete') return undefined;
        return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? '{}') as SseEvent['data'] };
      }
      const chunk = await reader?.read();
      if (!chunk || chunk.done) return undefined;
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    next,
    /** The `restrictionEvents` payload of the next event. */
    async nextEvent(): Promise<Record<string, unknown> & { eventId: string }> {
      const event = await next();
      const payload = event?.data.data?.restrictionEvents;
      if (!payload) throw new Error(`no event: ${JSON.stringify(event)}`);
      return payload as Record<string, unknown> & { eventId: string };
    },
    close: () => abort.abort(),
  };
}

/** A graphql-ws client authenticating with `connectionParams.authorization`. */
export function openWs(httpUrl: string, token: string | null, options: { onClose?: (code: number, reason: string) => void; onConnected?: () => void } = {}): Client {
  return createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => options.onClose?.((event as { code: number }).code, (event as { reason: string }).reason), connected: () => options.onConnected?.() },
  });
}
