import { getSSEProcessor, isAsyncIterable, type Plugin } from 'graphql-yoga';

/** The `eventId` a subscription result carries, if the client selected it. */
function eventIdOf(json: string): string | undefined {
  try {
    const parsed = JSON.parse(json) as { data?: Record<string, { eventId?: unknown } | null> | null };
    const id = Object.values(parsed.data ?? {})[0]?.eventId;
    return typeof id === 'string' && /^\d+$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Adds `id: <eventId>` to each SSE event, so standard SSE clients resume with `Last-Event-ID` on reconnect. */
function withEventIds(Transform: typeof TransformStream): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return new Transform({
    transform(chunk, controller) {
      const text = decoder.decode(chunk);
      const match = /(?:^|\n)data: (\{.*\})\n\n$/s.exec(text);
      const id = match?.[1] ? eventIdOf(match[1]) : undefined;
      controller.enqueue(id ? encoder.encode(`${text.slice(0, -1)}id: ${id}\n\n`) : chunk);
    },
  });
}

export function sseEventIds(): Plugin {
  const sse = getSSEProcessor();
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !(request.headers.get('accept') ?? '').includes('text/event-stream')) return;
      setResultProcessor(async (value, fetchAPI, mediaType) => {
        const response = await sse(value, fetchAPI, mediaType);
        return new fetchAPI.Response(response.body?.pipeThrough(withEventIds(fetchAPI.TransformStream)), { status: response.status, headers: response.headers });
      }, 'text/event-stream');
    },
  };
}
