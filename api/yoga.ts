import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, createYoga, maskError, type GraphiQLOptions, type Plugin } from 'graphql-yoga';
import type { ASTNode, GraphQLError } from 'graphql';
import type { Logger } from '../cli/logger.ts';
import type { Services } from '../cli/services.ts';
import { ValidationError } from '../domain/restrictions/errors.ts';
import { loadOrCreateSigningKey } from './auth/signing-key.ts';
import { AuthenticationError, createTokenVerifier } from './auth/verify-token.ts';
import { bearerChallenge, createAuthenticator, type Authenticator, type Viewer } from './auth/viewer.ts';
import { bodySizeLimit } from './body-limit.ts';
import { compiledQueries } from './compiled-queries.ts';
import { yogaLogging } from './error-log.ts';
import { executionDeadline } from './execution-deadline.ts';
import { refuseNulCharacters } from './nul-characters.ts';
import { queryCostLimit } from './query-cost.ts';
import type { GraphQLContext, ServerContext } from './context.ts';
import { sseEventIds } from './sse-event-ids.ts';
import { subscriptionsEndWithAccess } from './subscription-access.ts';
import { subscriptionsEndWithToken } from './token-expiry.ts';
import { schema } from './schema/index.ts';
import { attachGraphQLWebSocket } from './websocket.ts';

export const GRAPHQL_PATH = '/graphql';
/** Any of these headers marks a request as not a "simple" cross-site one (CSRF prevention). */
export const CSRF_HEADERS = ['x-graphql-csrf', 'x-graphql-yoga-csrf'];

function errorResponse(status: number, message: string, code: string, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  return new Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/** Every request needs a valid bearer token; without one nothing is parsed or executed. */
function authentication(authenticate: Authenticator, viewers: WeakMap<Request, Viewer>, log: Logger): Plugin {
  return {
    async onRequest({ request, endResponse }) {
      if (request.method === 'OPTIONS') return;
      try {
        viewers.set(request, await authenticate(request.headers.get('authorization')));
      } catch (err) {
        if (err instanceof AuthenticationError) return endResponse(errorResponse(401, err.message, 'UNAUTHENTICATED', { 'www-authenticate': bearerChallenge(err) }));
        // E.g. the database is unreachable: say so without details (they stay in the log).
        log.error({ err }, 'authentication failed unexpectedly');
        endResponse(errorResponse(503, 'The service is unavailable; try again shortly.', 'SERVICE_UNAVAILABLE'));
      }
    },
  };
}

/**
 * graphql-armor reports a refused query as "Syntax Error: …" without a code; the refusal is
 * rewritten in place (the same error is then thrown or reported) to its plain message with
 * `extensions.code` QUERY_TOO_COMPLEX, so a client can tell it from a mistake in its query.
 */
function coded(errorMessage: string) {
  const onReject = [
    (_context: unknown, error: GraphQLError) => {
      error.message = errorMessage;
      (error.extensions as Record<string, unknown>).code = 'QUERY_TOO_COMPLEX';
    },
  ];
  return { exposeLimits: false, errorMessage, onReject };
}

const armor = EnvelopArmorPlugin({
  maxDepth: { n: 10, ...coded('The query is nested too deeply.') },
  // Replaced by queryCostLimit, which counts every list with its bound (this one counts only first/last literals).
  costLimit: { enabled: false },
  maxAliases: { n: 15, ...coded('The query uses too many aliases.') },
  maxDirectives: { n: 20, ...coded('The query uses too many directives.') },
  maxTokens: { n: 2000, ...coded('The query is too long.') },
  blockFieldSuggestion: { enabled: true },
});

/** The most field values one operation may produce (see `operationCost`). */
export const MAX_QUERY_COST = 50_000;

/** Domain validation failures thrown from queries are the caller's fault: say so instead of masking them. */
function maskUnexpected(error: unknown, message: string, isDev?: boolean): Error {
  // Duck-typed, and errors made with yoga's helper: under vitest `graphql` may load twice (ESM and CJS).
  const located = error as { originalError?: unknown; path?: readonly (string | number)[]; nodes?: readonly ASTNode[] };
  const original = located.originalError ?? error;
  if (original instanceof ValidationError) {
    return createGraphQLError(original.message, { path: located.path, nodes: located.nodes, extensions: { code: 'BAD_USER_INPUT', field: original.field } });
  }
  return maskError(error, message, isDev);
}

/** What GraphiQL starts with: the header a token goes in (nothing is persisted in the browser). */
const graphiqlOptions: GraphiQLOptions = {
  title: 'Sendguard GraphiQL',
  headers: JSON.stringify({ Authorization: 'Bearer <a token from: sendguard token --tenant T --principal P --role "Security Reader">' }, null, 2),
  shouldPersistHeaders: false,
};

/**
 * The GraphQL endpoint: yoga over HTTP (queries, mutations, SSE subscriptions) plus graphql-ws.
 * `renderGraphiQL`, when given, serves GraphiQL to browsers (GET with `Accept: text/html`); the page
 * needs no token, its requests do.
 */
export function createGraphQLServer(deps: { services: Services; authenticate: Authenticator; renderGraphiQL?: ((options?: GraphiQLOptions) => string) | undefined }) {
  const { services, authenticate, renderGraphiQL } = deps;
  // The page is the whole GraphiQL bundle (several MB): rendered once, on first use.
  let graphiqlPage: string | undefined;
  const viewers = new WeakMap<Request, Viewer>();
  const shutdown = new AbortController();
  // Every open subscription listens on it (and lets go when it ends): no limit to warn at.
  setMaxListeners(0, shutdown.signal);
  const log = services.logger.child({ component: 'graphql' });
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: renderGraphiQL ? graphiqlOptions : false,
    renderGraphiQL: renderGraphiQL && ((options) => (graphiqlPage ??= renderGraphiQL(options))),
    landingPage: false,
    batching: false,
    // Enforced by bodySizeLimit below instead.
    maxRequestBodySize: false,
    cors: false,
    maskedErrors: { maskError: maskUnexpected },
    logging: yogaLogging(log),
    plugins: [authentication(authenticate, viewers, log), bodySizeLimit(services.config.graphql.maxBodyBytes), useCSRFPrevention({ requestHeaders: CSRF_HEADERS }), armor, queryCostLimit(MAX_QUERY_COST), refuseNulCharacters(), sseEventIds(), subscriptionsEndWithToken(), subscriptionsEndWithAccess(),
      compiledQueries((errors) => log.error({ errors }, 'a query could not be compiled')), executionDeadline(services.config.graphql.timeoutMs)],
    context: ({ request, viewer }) => {
      const who = viewer ?? viewers.get(request);
      if (!who) throw new Error('request reached execution without authentication');
      return { services, viewer: who, request: viewer ? undefined : request, shutdown: shutdown.signal };
    },
  });

  return {
    yoga,
    handle: (req: http.IncomingMessage, res: http.ServerResponse): void => yoga.requestListener(req, res),
    /** Serves graphql-ws on the same HTTP server and path. */
    attachWebSocket: (server: http.Server) => attachGraphQLWebSocket({ server, path: GRAPHQL_PATH, yoga, authenticate, log, maxMessageBytes: services.config.graphql.maxBodyBytes }),
    /** Ends open subscriptions so the HTTP server can close. */
    stop(): void {
      shutdown.abort();
    },
  };
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;

/**
 * The GraphQL server with token verification wired: the signing key is read (or created) from the
 * config. GraphiQL's self-contained bundle is loaded only when the config turns it on.
 */
export async function startGraphQLServer(services: Services): Promise<GraphQLServer> {
  const localKey = await loadOrCreateSigningKey(services.config.auth.signingKeyFile);
  const verify = createTokenVerifier({ auth: services.config.auth, localKey });
  const renderGraphiQL = services.config.graphql.graphiql ? (await import('@graphql-yoga/render-graphiql')).renderGraphiQL : undefined;
  return createGraphQLServer({ services, authenticate: createAuthenticator({ verify, roles: services.roles }), renderGraphiQL });
}
