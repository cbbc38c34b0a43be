import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; transports add their own metrics to it. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sendguard_process_' });
  return {
    registry,
    httpRequests: new Counter({ name: 'sendguard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    policyRequests: new Counter({ name: 'sendguard_policy_requests_total', help: 'Policy delegation requests by decision', labelNames: ['decision'], registers: [registry] }),
    policyLatency: new Histogram({
      name: 'sendguard_policy_request_seconds',
      help: 'Policy request latency',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1],
      registers: [registry],
    }),
    activeRestrictions: new Gauge({ name: 'sendguard_active_restrictions', help: 'Active restrictions by entity kind', labelNames: ['entity_kind'], registers: [registry] }),
    eventsDelivered: new Counter({ name: 'sendguard_events_delivered_total', help: 'Events delivered to subscribers in this process', labelNames: ['type'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
