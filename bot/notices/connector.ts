import type { AdaptiveCard } from '../cards/adaptive-card.ts';

/**
 * Posting into a conversation the bot was in before, outside any turn (botbuilder-free). A call
 * whose `signal` aborts (shutdown) stops waiting for Teams and throws ConnectorError with status null.
 */
export interface Connector {
  post(reference: Record<string, unknown>, card: AdaptiveCard, signal?: AbortSignal): Promise<{ activityId: string }>;
  update(reference: Record<string, unknown>, activityId: string, card: AdaptiveCard, signal?: AbortSignal): Promise<void>;
}

/** The Bot Framework connector answered with an error, or could not be reached (status null). */
export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** From Retry-After, when the connector said how long to wait. */
    readonly retryAfterMs: number | null,
    /** The error code Teams put in the body (`{ error: { code } }`), such as `BotNotInConversationRoster`. */
    readonly code: string | null = null,
  ) {
    super(message);
  }

  /** Throttled, a server error, or no answer at all: worth another try. */
  get retryable(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }

  /**
   * The bot was removed from the conversation, or the conversation was deleted, while the bot did
   * not hear of it. Other 403s (blocked by a user or an admin) and 404s (a deleted message) are not.
   */
  get conversationGone(): boolean {
    return (this.status === 403 && this.code === 'BotNotInConversationRoster') || (this.status === 404 && this.code === 'ConversationNotFound');
  }
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const defaultRetry: RetryOptions = { attempts: 6, baseMs: 1_000, maxMs: 60_000 };

/** Waits `ms`, or less if the signal aborts. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Runs a connector call, retrying throttling (429) and server errors with exponential backoff,
 * waiting at least as long as Retry-After asks. Other errors, and the last one, are thrown.
 */
/** The wait before the next of `options.attempts` tries, after the `attempt`-th failed: doubling, capped. */
export function backoffMs(options: RetryOptions, attempt: number): number {
  return Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
}

export async function withConnectorRetry<T>(call: () => Promise<T>, options: RetryOptions, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ConnectorError) || !err.retryable || attempt >= options.attempts || signal?.aborted) throw err;
      await pause(Math.min(options.maxMs, Math.max(backoffMs(options, attempt), err.retryAfterMs ?? 0)), signal);
      if (signal?.aborted) throw err;
    }
  }
}
