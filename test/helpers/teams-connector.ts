import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';

export type ConnectorCallKind = 'post' | 'reply' | 'update' | 'create';

export interface ConnectorCall {
  kind: ConnectorCallKind;
  conversationId: string;
  /** The activity replied to or updated; the id the stand-in gave a posted activity. */
  activityId: string;
  activity: Record<string, unknown>;
  /** What the stand-in answered. */
  status: number;
}

interface PlannedFailure {
  kind: ConnectorCallKind;
  status: number;
  headers: Record<string, string>;
  /** The Teams error code in the body. */
  code: string;
  remaining: number;
}

function route(method: string, path: string): { kind: ConnectorCallKind; conversationId: string; activityId: string } | null {
  const parts = path.replace(/^\/+/, '').split('/').map(decodeURIComponent);
  if (parts[0] !== 'v3' || parts[1] !== 'conversations') return null;
  if (method === 'POST' && parts.length === 2) return { kind: 'create', conversationId: '', activityId: '' };
  if (parts[3] !== 'activities' || !parts[2]) return null;
  if (method === 'POST' && parts.length === 4) return { kind: 'post', conversationId: parts[2], activityId: '' };
  if (method === 'POST' && parts.length === 5) return { kind: 'reply', conversationId: parts[2], activityId: parts[4] ?? '' };
  if (method === 'PUT' && parts.length === 5) return { kind: 'update', conversationId: parts[2], activityId: parts[4] ?? '' };
  return null;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * A stand-in for the Bot Framework connector Teams runs (the bot's `serviceUrl`), on loopback:
 * it accepts replies, proactive posts, updates and new conversations, records them, and can be
 * told to refuse the next calls (429 with Retry-After, 5xx) to exercise the bot's retries.
 */
export async function startTeamsConnector() {
  const calls: ConnectorCall[] = [];
  const failures: PlannedFailure[] = [];
  /** Kinds whose next call is taken but not answered until `answerHeld`. */
  const holding = new Set<ConnectorCallKind>();
  const held: (() => void)[] = [];
  let next = 1;

  const server = http.createServer(async (req, res) => {
    const target = route(req.method ?? '', (req.url ?? '').split('?')[0] ?? '');
    const activity = await readJson(req);
    if (!target) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NotFound"}}');
      return;
    }
    const failure = failures.find((f) => f.kind === target.kind && f.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      calls.push({ ...target, activity, status: failure.status });
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end(JSON.stringify({ error: { code: failure.code, message: 'refused by the test' } }));
      return;
    }
    const id = target.kind === 'update' ? target.activityId : `activity-${next++}`;
    calls.push({ ...target, activityId: target.activityId || id, activity, status: 200 });
    const body = target.kind === 'create' ? { id: `conversation-${next++}`, activityId: id } : { id };
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (holding.delete(target.kind)) held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    calls,
    /** Answer the next `times` calls of this kind with `status` (and headers such as Retry-After) and a Teams error code. */
    refuse(kind: ConnectorCallKind, status: number, times: number, headers: Record<string, string> = {}, code = 'Throttled'): void {
      failures.push({ kind, status, headers, code, remaining: times });
    },
    /** Take the next call of this kind (it is in `calls`, as Teams would have posted it) but answer it only on `answerHeld`. */
    hold(kind: ConnectorCallKind): void {
      holding.add(kind);
    },
    /** The calls taken and not answered yet. */
    heldCount: () => held.length,
    /** Answers the calls held so far. */
    answerHeld(): void {
      for (const answer of held.splice(0)) answer();
    },
    /** Accept every call from now on. */
    stopRefusing(): void {
      failures.splice(0);
    },
    /** The calls accepted (status 200) of the kinds asked for, in order. */
    accepted(...kinds: ConnectorCallKind[]): ConnectorCall[] {
      return calls.filter((c) => c.status === 200 && kinds.includes(c.kind));
    },
    /** Waits (polling) until `check` passes; fails the test if it never does. */
    until<T>(check: () => T | Promise<T>, timeout = 15_000): Promise<T> {
      return vi.waitFor(check, { timeout, interval: 50 });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TeamsConnector = Awaited<ReturnType<typeof startTeamsConnector>>;

/** The Adaptive Card an activity carries. */
export function cardOf(activity: Record<string, unknown>): AdaptiveCard {
  const attachments = activity.attachments as { contentType: string; content: AdaptiveCard }[] | undefined;
  const card = attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')?.content;
  if (!card) throw new Error(`no card in ${JSON.stringify(activity).slice(0, 200)}`);
  return card;
}
