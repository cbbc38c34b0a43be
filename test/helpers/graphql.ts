import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintLocalToken, type LocalTokenClaims } from '../../api/auth/local-token.ts';
import { loadOrCreateSigningKey, type SigningKey } from '../../api/auth/signing-key.ts';
import { startGraphQLServer } from '../../api/yoga.ts';
import { createLogger, type Logger } from '../../cli/logger.ts';
import { startSendguard, type RunningSendguard } from '../../cli/serve.ts';
import type { Services } from '../../cli/services.ts';
import type { Config } from '../../config/load-config.ts';
import { systemClock, type Clock } from '../../domain/clock.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testServices } from './services.ts';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[] };
}

export interface TokenOptions {
  tenantId: string;
  roles?: string[];
  principalId?: string;
  name?: string;
  expiresInSeconds?: number;
  act?: LocalTokenClaims['act'];
}

export interface GraphQLClient {
  url: string;
  graphqlUrl: string;
  config: Config;
  key: SigningKey;
  services: Services;
  token(options: TokenOptions): Promise<string>;
  /** POSTs one operation as JSON with the token; returns status, headers and the parsed body. */
  gql<T = Record<string, unknown>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** As `gql`, naming the operation of a document that holds several. */
  gqlOperation<T = Record<string, unknown>>(token: string | null, query: string, operationName: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
}

export interface TestApi extends GraphQLClient {
  database: TestDatabase;
  running: RunningSendguard;
  stop(): Promise<void>;
}

async function clientFor(url: string, config: Config, services: Services): Promise<GraphQLClient> {
  const key = await loadOrCreateSigningKey(config.auth.signingKeyFile);
  const graphqlUrl = `${url}/graphql`;
  return {
    url,
    graphqlUrl,
    config,
    key,
    services,
    token: (o) =>
      mintLocalToken(
        key,
        { issuer: config.auth.tokenIssuer, audience: config.auth.tokenAudience },
        { tenantId: o.tenantId, principalId: o.principalId ?? 'oid-admin-1', name: o.name ?? 'Adele Vance', roles: o.roles ?? ['Security Administrator'], act: o.act },
        { expiresInSeconds: o.expiresInSeconds },
      ),
    gql: (token, query, variables) => postGraphQL(graphqlUrl, token, { query, variables }),
    gqlOperation: (token, query, operationName, variables) => postGraphQL(graphqlUrl, token, { query, operationName, variables }),
  };
}

/** POSTs one operation as JSON to `graphqlUrl`, with the token if given; returns status, headers and the parsed body. */
export async function postGraphQL<T = Record<string, unknown>>(
  graphqlUrl: string,
  token: string | null,
  body: { query: string; operationName?: string; variables?: Record<string, unknown> | undefined },
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(graphqlUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as GraphQLResponse<T>['body']) : {} };
}

/** A real server with the `api` role on a fresh test database, and tokens signed with its own key. */
export async function startTestApi(options: { env?: Record<string, string>; clock?: Clock; database?: TestDatabase; logger?: Logger } = {}): Promise<TestApi> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(options.env);
  const running = await startSendguard(config, { roles: ['api'], database, clock: options.clock, logger: options.logger ?? createLogger('silent') });
  const client = await clientFor(running.urls.http ?? '', config, running.services);
  return {
    ...client,
    database,
    running,
    async stop() {
      await running.stop();
      if (!options.database) await database.close();
    },
  };
}

/**
 * Only the GraphQL endpoint on a plain HTTP server, with no background work (event bus, expiry,
 * alerts): every statement the database sees comes from the request under test.
 */
export async function startBareGraphQL(database: TestDatabase, clock: Clock = systemClock): Promise<GraphQLClient & { stop(): Promise<void> }> {
  const services = testServices(database, clock);
  const graphql = await startGraphQLServer(services);
  const server = http.createServer((req, res) => graphql.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = await clientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, services.config, services);
  return {
    ...client,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The `extensions.code` of each top-level error. */
export function errorCodes(response: GraphQLResponse<unknown>): unknown[] {
  return (response.body.errors ?? []).map((e) => e.extensions?.code);
}
