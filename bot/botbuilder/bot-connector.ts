import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { AdaptiveCard } from '../cards/adaptive-card.ts';
import { ConnectorError, parseRetryAfter, type Connector } from '../notices/connector.ts';
import { cardMessage } from './turn-bridge.ts';

interface HttpFailure {
  statusCode?: unknown;
  response?: { headers?: { get?: (name: string) => string | undefined | null } | Record<string, unknown> };
}

function headerOf(err: HttpFailure, name: string): string | null {
  const headers = err.response?.headers;
  if (!headers) return null;
  if (typeof headers.get === 'function') return (headers.get as (n: string) => string | undefined | null)(name) ?? null;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/** botbuilder's REST errors (or a network failure) as the bot's own ConnectorError. */
function connectorError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const failure = err as HttpFailure & { message?: unknown; code?: unknown };
  const message = typeof failure.message === 'string' ? failure.message : 'connector call failed';
  // botbuilder's RestError carries the code of Teams' `{ error: { code, message } }` body as `code`.
  if (typeof failure.statusCode === 'number') {
    return new ConnectorError(message, failure.statusCode, parseRetryAfter(headerOf(failure, 'retry-after'), new Date()), typeof failure.code === 'string' ? failure.code : null);
  }
  if (typeof failure.code === 'string' && /^E[A-Z]+/.test(failure.code)) return new ConnectorError(message, null, null);
  return err;
}

/**
 * How long a call still has to answer once `signal` aborts. A post Teams has taken but not yet
 * confirmed would otherwise be given up as never made, and posted again after the restart.
 */
const answerGraceMs = 3_000;

/**
 * The call, or a ConnectorError once `signal` aborts and the call has not answered within
 * `answerGraceMs`. botbuilder's HTTP pipeline waits out a 429's Retry-After itself, with no way to
 * cancel it; on shutdown that wait is left behind.
 */
function unlessAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return call;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const abort = () => {
      timer = setTimeout(() => reject(new ConnectorError('stopped before Teams answered', null, null)), answerGraceMs);
    };
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    call.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    });
  });
}

const stoppedBefore = () => new ConnectorError('stopped before the call to Teams', null, null);

/** Proactive posts and updates through CloudAdapter.continueConversationAsync. */
export function createBotConnector(adapter: CloudAdapter, appId: string): Connector {
  // The adapter's onTurnError would swallow a failure inside the turn; it is carried out instead.
  async function inConversation(reference: Record<string, unknown>, work: (context: TurnContext) => Promise<void>): Promise<void> {
    let failure: { err: unknown } | undefined;
    try {
      await adapter.continueConversationAsync(appId, reference as Partial<ConversationReference>, async (context) => {
        try {
          await work(context);
        } catch (err) {
          failure = { err };
        }
      });
    } catch (err) {
      failure = { err };
    }
    if (failure) throw connectorError(failure.err);
  }

  return {
    async post(reference, card: AdaptiveCard, signal) {
      if (signal?.aborted) throw stoppedBefore();
      let activityId: string | undefined;
      const posting = inConversation(reference, async (context) => {
        // botbuilder makes every send a reply to the turn's (made-up) activity; a notice is a new post.
        context.onSendActivities(async (_context, activities, next) => {
          for (const activity of activities) delete activity.replyToId;
          return next();
        });
        activityId = (await context.sendActivity(cardMessage(card)))?.id;
      });
      await unlessAborted(posting, signal);
      if (!activityId) throw new ConnectorError('the connector returned no activity id', 502, null);
      return { activityId };
    },
    async update(reference, activityId, card, signal) {
      if (signal?.aborted) throw stoppedBefore();
      const updating = inConversation(reference, async (context) => {
        await context.updateActivity({ ...cardMessage(card), id: activityId });
      });
      await unlessAborted(updating, signal);
    },
  };
}
