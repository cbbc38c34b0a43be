import type http from 'node:http';
import type { Services } from '../cli/services.ts';
import type { Viewer } from './auth/viewer.ts';

/** One per operation (per subscription for subscriptions), so dataloaders never cross requests or tenants. */
export interface GraphQLContext {
  services: Services;
  viewer: Viewer;
  /** The HTTP request (absent over WebSocket); subscriptions read `Last-Event-ID` from it. */
  request: Request | undefined;
  /** Aborts when the server shuts down, so open subscriptions end. */
  shutdown: AbortSignal;
}

/** What the transport hands yoga: Node's request/response, or the viewer of a WebSocket connection. */
export interface ServerContext {
  req?: http.IncomingMessage;
  res?: http.ServerResponse;
  /** Set for WebSocket operations, which authenticate once at connect time. */
  viewer?: Viewer;
}
