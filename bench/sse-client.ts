import { performance } from 'node:perf_hooks';

export interface SseSubscription {
  /** Resolves with the `performance.now()` at which the event for `key` arrived (or had arrived). */
  arrival(key: string, timeoutMs: number): Promise<number>;
  close(): void;
}

/**
 * A GraphQL subscription over Server-Sent Events (POST, `accept: text/event-stream`). Each event is
 * stamped when its bytes arrive, before parsing; `keyOf` names the payload (e.g. its sender).
 */
export async function openSse(
  url: string,
  token: string,
  query: string,
  keyOf: (payload: Record<string, unknown>) => string | undefined,
): Promise<SseSubscription> {
  const abort = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  const reader = res.body?.getReader();
  if (!res.ok || !reader) throw new Error(`SSE subscription refused: HTTP ${res.status}`);
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let failure: Error | undefined;

  const onEvent = (block: string, at: number): void => {
    const data = block.split('\n').find((l) => l.startsWith('data:'));
    if (!block.split('\n').includes('event: next') || data === undefined) return;
    const body = JSON.parse(data.slice(5)) as { data?: Record<string, Record<string, unknown>>; errors?: unknown };
    const payload = Object.values(body.data ?? {})[0];
    const key = payload && keyOf(payload);
    if (key === undefined) throw new Error(`SSE event without a key: ${data}`);
    const waiter = waiting.get(key);
    waiting.delete(key);
    if (waiter) waiter(at);
    else arrived.set(key, at);
  };

  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const chunk = await reader.read();
      const at = performance.now();
      if (chunk.done) throw new Error('SSE stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        onEvent(buffer.slice(0, end), at);
        buffer = buffer.slice(end + 2);
      }
    }
  })().catch((e: unknown) => {
    failure = e instanceof Error ? e : new Error(String(e));
  });

  return {
    arrival(key, timeoutMs) {
      const at = arrived.get(key);
      if (at !== undefined) {
        arrived.delete(key);
        return Promise.resolve(at);
      }
      if (failure && !abort.signal.aborted) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          reject(failure ?? new Error(`no event for ${key} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(key, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => abort.abort(),
  };
}
