import type { ExecutionResult } from 'graphql';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from './context.ts';

/** setTimeout's longest delay (about 24.8 days); a later expiry is waited for in steps. */
const MAX_DELAY_MS = 2_147_483_647;

/** Calls `fire` at `at` (wall clock, as jose checks token expiry); returns a cancel function. */
export function atTime(at: Date, fire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = at.getTime() - Date.now();
    timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fire, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}

export function tokenExpiredError() {
  return createGraphQLError('Unauthorized: the token has expired; subscribe again with a fresh one', { extensions: { code: 'UNAUTHENTICATED' } });
}

/**
 * The subscription's results until `expiresAt`; then one result with an UNAUTHENTICATED error,
 * and the source is ended. A subscription authorises its caller once, so it may not outlive the token.
 */
export function untilExpiry(source: AsyncIterable<ExecutionResult>, expiresAt: Date): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  let ended = false;
  let expired = false;
  let wake: (() => void) | undefined;
  const cancel = atTime(expiresAt, () => {
    expired = true;
    wake?.();
  });
  const end = () => {
    ended = true;
    cancel();
  };
  /**
   * The source's next result, or 'expired' if the token expires first. Raced call by call: racing
   * every call against one promise that settles at expiry kept a reaction per result delivered
   * until then (about 400 bytes each).
   */
  const nextOrExpiry = () => new Promise<IteratorResult<ExecutionResult> | 'expired'>((resolve, reject) => {
    wake = () => resolve('expired');
    inner.next().then(resolve, reject);
  }).finally(() => {
    wake = undefined;
  });
  return {
    async next() {
      if (ended) return { done: true, value: undefined };
      const winner = expired ? 'expired' : await nextOrExpiry();
      if (winner === 'expired') {
        end();
        // The source may be parked waiting for its next event; its return() unblocks it.
        inner.return?.().catch(() => undefined);
        return { done: false, value: { errors: [tokenExpiredError()] } };
      }
      if (winner.done) end();
      return winner;
    },
    async return(value?: unknown) {
      end();
      await inner.return?.(value);
      return { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      end();
      if (inner.throw) return inner.throw(err);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Ends every subscription (over SSE or WebSocket) when the token that opened it expires. */
export function subscriptionsEndWithToken(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const { expiresAt } = args.contextValue.viewer;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilExpiry(result, expiresAt));
        },
      };
    },
  };
}
