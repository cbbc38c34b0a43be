import type http from 'node:http';
import type { CloudAdapter, Request as BotRequest, Response as BotResponse, TurnContext } from 'botbuilder';

/** Activities are small; a card action carries at most a card's inputs. */
export const maxActivityBytes = 256 * 1024;
export const botMessagesPath = '/api/messages';

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new BodyError(413, `the activity is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BodyError(413, `the activity is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'the body must be a JSON activity');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BodyError(400, 'the body must be a JSON activity');
  return body as Record<string, unknown>;
}

/** The express-like response CloudAdapter.process writes to, over Node's ServerResponse. */
function responseShim(res: http.ServerResponse): BotResponse {
  let body: unknown;
  return {
    socket: res.socket,
    status(code: number) {
      res.statusCode = code;
      return this;
    },
    header(name: string, value: unknown) {
      res.setHeader(name, String(value));
      return this;
    },
    send(value: unknown) {
      body = value;
      return this;
    },
    end() {
      if (res.writableEnded) return;
      if (body === undefined || body === null) return void res.end();
      const json = typeof body !== 'string';
      if (!res.hasHeader('content-type')) res.setHeader('content-type', json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
      res.end(json ? JSON.stringify(body) : body);
    },
  };
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: message }));
}

/** `POST /api/messages`: reads the activity (size-capped), then botbuilder authenticates and runs the turn. */
export function botMessagesRoute(adapter: CloudAdapter, logic: (context: TurnContext) => Promise<void>) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return fail(res, 405, 'use POST');
    let body: Record<string, unknown>;
    try {
      body = await readJson(req, maxActivityBytes);
    } catch (err) {
      if (err instanceof BodyError) return fail(res, err.status, err.message);
      throw err;
    }
    const request: BotRequest = { body, headers: req.headers, method: req.method };
    await adapter.process(request, responseShim(res), logic);
  };
}

/** What `/api/messages` answers while the bot is not configured, instead of a bare 404. */
export function botUnavailableRoute(reason: string) {
  return (_req: http.IncomingMessage, res: http.ServerResponse): void => fail(res, 503, `the Teams bot is not running: ${reason}`);
}
