import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { createGraphQLError, type YogaServerInstance } from 'graphql-yoga';
import WebSocket, { WebSocketServer } from 'ws';
import type { Logger } from '../cli/logger.ts';
import { systemClock } from '../domain/clock.ts';
import { AuthenticationError } from './auth/verify-token.ts';
import { atTime } from './token-expiry.ts';
import type { Authenticator, Viewer } from './auth/viewer.ts';
import type { GraphQLContext, ServerContext } from './context.ts';

type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;
type Enveloped = ReturnType<Yoga['getEnveloped']>;
interface RootValue {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
}

/** graphql-ws's code for a connection that did not authenticate. */
const UNAUTHORIZED = 4401;
const UNAVAILABLE = 1011;

/** The connection's token, as `Authorization` would carry it, and its caller as of the last operation. */
interface Connection {
  authorization: string | undefined;
  viewer: Viewer;
}

/**
 * Verifies `connectionParams.authorization` when the connection opens, and closes the connection
 * (4401) when that token expires: its subscriptions may not outlive it.
 */
function connectionAuthenticator(authenticate: Authenticator, connections: WeakMap<WebSocket, Connection>, log: Pick<Logger, 'error'>) {
  return async (ctx: { connectionParams?: Readonly<Record<string, unknown>> | undefined; extra: Extra }): Promise<boolean> => {
    const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
    const authorization = typeof header === 'string' ? header : undefined;
    try {
      const viewer = await authenticate(authorization);
      connections.set(ctx.extra.socket, { authorization, viewer });
      const socket = ctx.extra.socket;
      const cancel = atTime(viewer.expiresAt, () => socket.close(UNAUTHORIZED, 'Unauthorized: the token has expired; reconnect with a fresh one'));
      socket.once('close', cancel);
      return true;
    } catch (err) {
      const refused = err instanceof AuthenticationError;
      if (!refused) log.error({ err }, 'authentication failed unexpectedly');
      ctx.extra.socket.close(refused ? UNAUTHORIZED : UNAVAILABLE, refused ? `Unauthorized: ${err.message}`.slice(0, 120) : 'The service is unavailable; try again shortly.');
      return false;
    }
  };
}

/** Duck-typed: under vitest `graphql` may load twice (ESM and CJS). */
function isGraphQLError(err: unknown): err is GraphQLError {
  return err instanceof Error && 'locations' in err;
}

const unauthenticated = (message: string) => [createGraphQLError(`Unauthorized: ${message}`, { extensions: { code: 'UNAUTHENTICATED' } })];

/**
 * The caller of one operation: the connection's token, with the roles stored for its principal now
 * (as each HTTP request gets them), so a role removed while the connection is open no longer counts.
 */
async function operationViewer(authenticate: Authenticator, connection: Connection | undefined, log: Pick<Logger, 'error'>): Promise<Viewer | readonly GraphQLError[]> {
  // Token time is wall-clock time, as jose checks it.
  if (!connection || connection.viewer.expiresAt <= systemClock.now()) return unauthenticated('the token has expired; reconnect with a fresh one');
  try {
    connection.viewer = await authenticate(connection.authorization);
    return connection.viewer;
  } catch (err) {
    if (err instanceof AuthenticationError) return unauthenticated(err.message);
    log.error({ err }, 'authentication failed unexpectedly');
    return [createGraphQLError('The service is unavailable; try again shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
  }
}

/** Runs each operation through yoga's envelop, so scopes, armor and error masking apply as over HTTP. */
async function executionArgs(yoga: Yoga, extra: Extra, viewer: Viewer | readonly GraphQLError[], payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
  if (Array.isArray(viewer)) return viewer;
  const enveloped = yoga.getEnveloped({ req: extra.request, params: payload, viewer });
  let document: ExecutionArgs['document'];
  try {
    document = enveloped.parse(payload.query);
  } catch (err) {
    return [isGraphQLError(err) ? err : createGraphQLError('The query could not be parsed.')];
  }
  let errors: readonly GraphQLError[];
  try {
    errors = enveloped.validate(enveloped.schema, document);
  } catch (err) {
    // graphql-armor throws its refusals (depth, aliases, directives) rather than reporting them:
    // they answer this operation, as over HTTP, instead of closing the connection (4500).
    if (isGraphQLError(err)) return [err];
    throw err;
  }
  if (errors.length > 0) return errors;
  const rootValue: RootValue = { execute: enveloped.execute, subscribe: enveloped.subscribe };
  return { schema: enveloped.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: await enveloped.contextFactory(), rootValue };
}

/**
 * Errors on a connection's socket, to the logger rather than graphql-ws's `console.error`. ws
 * reports a client's protocol fault (a message over the limit, a bad frame) this way after closing
 * the connection with its code (1009, 1002…): the client's mistake, logged as a refused request is.
 */
function onSocketError(socket: WebSocket, log: Pick<Logger, 'error' | 'info'>) {
  return (err: Error & { code?: unknown }) => {
    if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) {
      log.info({ code: err.code, reason: err.message }, 'websocket connection refused');
      return;
    }
    log.error({ err }, 'websocket connection failed');
    socket.close(UNAVAILABLE, 'Internal server error');
  };
}

/**
 * graphql-ws on the HTTP server's `path`. The token travels in `connectionParams.authorization`
 * and is verified at connect time; each operation checks it again, with its principal's stored
 * roles as they are then, and the connection closes when it expires. A message over `maxMessageBytes` closes it with 1009.
 */
export function attachGraphQLWebSocket(deps: { server: http.Server; path: string; yoga: Yoga; authenticate: Authenticator; log: Pick<Logger, 'error' | 'info'>; maxMessageBytes: number }) {
  // A message is held whole and parsed before the token is looked at: the HTTP body limit holds for it too (ws's own is 100 MiB).
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxMessageBytes });
  const connections = new WeakMap<WebSocket, Connection>();
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== deps.path) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit('connection', ws, req);
      // In place of the handler graphql-ws's adapter just added, which writes to the console.
      ws.removeAllListeners('error');
      ws.on('error', onSocketError(ws, deps.log));
    });
  };
  deps.server.on('upgrade', onUpgrade);
  const disposable = useServer(
    {
      onConnect: connectionAuthenticator(deps.authenticate, connections, deps.log),
      onSubscribe: async (ctx, _id, payload) =>
        executionArgs(deps.yoga, ctx.extra, await operationViewer(deps.authenticate, connections.get(ctx.extra.socket), deps.log), payload),
      execute: (args) => (args.rootValue as RootValue).execute(args),
      subscribe: (args) => (args.rootValue as RootValue).subscribe(args),
    },
    wss,
  );
  return async function close(): Promise<void> {
    deps.server.off('upgrade', onUpgrade);
    await disposable.dispose();
  };
}
