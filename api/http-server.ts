import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { settleWithin } from '../domain/deadline.ts';
import type { Metrics } from './metrics.ts';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface HttpServerOptions {
  /** Path prefix → handler, e.g. `/graphql`, `/api/messages`. */
  routes: Record<string, RouteHandler>;
  ready: () => Promise<void>;
  metrics: Metrics;
  logger: Logger;
}

/** Readiness fails after this long: a database that stopped answering must not hang the probe. */
const READY_TIMEOUT_MS = 2000;

function notReady(ms: number): never {
  throw new Error(`the database did not answer within ${ms} ms`);
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function routeOf(url: string, routes: Record<string, RouteHandler>): string | undefined {
  const path = url.split('?')[0] ?? '/';
  return Object.keys(routes).find((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Health, readiness and metrics, plus the transports' routes, on one server. */
export function createHttpServer(options: HttpServerOptions): http.Server {
  const { routes, metrics, logger } = options;
  return http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const route = routeOf(url, routes);
    res.on('finish', () => metrics.httpRequests.inc({ route: route ?? url.split('?')[0], status: String(res.statusCode) }));
    try {
      if (url === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
      if (url === '/readyz') {
        await settleWithin(options.ready(), READY_TIMEOUT_MS, () => notReady(READY_TIMEOUT_MS));
        return send(res, 200, 'application/json', '{"status":"ready"}');
      }
      if (url === '/metrics') return send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
      const handler = route ? routes[route] : undefined;
      if (handler) return await handler(req, res);
      send(res, 404, 'application/json', '{"error":"not found"}');
    } catch (err) {
      if (url === '/readyz') return send(res, 503, 'application/json', JSON.stringify({ status: 'unavailable', reason: (err as Error).message }));
      logger.error({ err, url }, 'request failed');
      if (!res.headersSent) send(res, 500, 'application/json', '{"error":"internal error"}');
      else res.end();
    }
  });
}

export function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes idle and remaining sockets. */
export function closeServer(server: http.Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
