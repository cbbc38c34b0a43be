import { createGraphQLError, type Plugin } from 'graphql-yoga';

const tooLarge = () => createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
const badLength = () => createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

/**
 * The request body limit (`SENDGUARD_GRAPHQL_MAX_BODY_BYTES`), in place of yoga's, which streams
 * every body through a counting pipeline whose teardown alone (an AbortError built per request)
 * took a few per cent of the API process's time. A body that declares its length is judged on the
 * header: Node's HTTP parser hands over exactly that many bytes as the body, never more (what
 * follows is read as the next request, and a request declaring both a length and chunked encoding
 * is refused). Only a body without a length (chunked) is counted as it arrives, and refused once
 * it passes the limit, however much more the client sends.
 */
export function bodySizeLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!/^\d+$/.test(declared)) throw badLength();
        if (Number(declared) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => parse(counted(req, limit, fetchAPI)));
    },
  };
}

function counted(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  if (!request.body) return request;
  // A body that is the platform's own stream needs the platform's TransformStream to be piped.
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const body = request.body.pipeThrough(new Transform<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      if (bytes > limit) controller.error(tooLarge());
      else controller.enqueue(chunk);
    },
  }));
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half' } as RequestInit);
}
