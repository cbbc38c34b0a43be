// All tables, for drizzle's client and for repos that join across aggregates.
export * from './schema/tenants.ts';
export * from './schema/role-assignments.ts';
export * from './schema/outbound-spam-policies.ts';
export * from './schema/sending-counters.ts';
export * from './schema/connectors.ts';
export * from './schema/restrictions.ts';
export * from './schema/alerts.ts';
export * from './schema/audit-log.ts';
export * from './schema/events.ts';
export * from './schema/teams.ts';
export * from './schema/relay-credentials.ts';
