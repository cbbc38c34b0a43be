import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/client.ts';
import type { Clock } from '../domain/clock.ts';
import { createAlertPolicyService } from '../domain/alerts/alert-policy-service.ts';
import { createAlertQueries } from '../domain/alerts/alert-queries.ts';
import { createAlertService } from '../domain/alerts/alert-service.ts';
import { createNotificationWorker, type TeamsNotificationHook } from '../domain/alerts/notification-worker.ts';
import { createAuditQueries } from '../domain/audit/audit-queries.ts';
import { createAlertMailer } from '../mail/alert-mailer.ts';
import { createEnforcementService } from '../domain/enforcement/enforcement-service.ts';
import { SETTLE_CHUNK } from '../domain/enforcement/lease-keeper.ts';
import { createRelayCredentialService } from '../domain/relay/relay-credentials.ts';
import { createEventBus } from '../domain/events/event-bus.ts';
import { createExpiryScheduler } from '../domain/restrictions/expiry-scheduler.ts';
import { createRestrictionQueries } from '../domain/restrictions/restriction-queries.ts';
import { createRestrictionLoaders } from '../domain/restrictions/restriction-loaders.ts';
import { createRestrictionService } from '../domain/restrictions/restriction-service.ts';
import { createRoleService } from '../domain/roles/role-service.ts';
import { createManualRestriction } from '../domain/restrictions/manual-restriction.ts';
import { createPolicyService } from '../domain/policies/policy-service.ts';
import { createRuleService } from '../domain/policies/rule-service.ts';
import { createTenantAdminService } from '../domain/tenants/tenant-admin-service.ts';
import { createUnblockService } from '../domain/unblock/unblock-service.ts';
import type { Logger } from './logger.ts';

/** Every domain service, wired once. Transports receive the pieces they need from here. */
export function createServices(deps: { config: Config; database: Database; clock: Clock; logger: Logger }) {
  const { config, database, clock, logger } = deps;
  const db = database.db;
  const events = createEventBus({ database, pollMs: config.events.pollMs, logger });
  const restrictions = createRestrictionService({ db, clock });
  const { notifySmtpUrl, notifyFrom } = config.alerts;
  const alertQueries = createAlertQueries({ db });
  const alertMailer = notifySmtpUrl ? createAlertMailer({ smtpUrl: notifySmtpUrl, from: notifyFrom, restrictionEnd: alertQueries.restrictionEnd }) : undefined;
  return {
    config,
    database,
    db,
    clock,
    logger,
    events,
    restrictions,
    enforcement: createEnforcementService({
      db,
      clock,
      restrictions,
      limits: config.serviceLimits,
      events,
      listen: (channel, onNotify) => database.listen(channel, onNotify),
      logger,
      options: {
        unknownSender: config.policyServer.unknownSenderAction === 'reject' ? 'reject' : 'accept',
        saslLoginDomain: config.policyServer.saslLoginDomain,
        databaseUnavailable: config.policyServer.dbErrorAction === 'defer' ? 'defer' : 'accept',
        requestTimeoutMs: config.policyServer.timeoutMs,
        restrictionCacheMs: config.policyServer.restrictionCacheMs,
        durableCounts: config.policyServer.commit === 'durable',
        leaseMs: config.policyServer.leaseMs,
        leaseSettleChunk: SETTLE_CHUNK[database.kind],
        warningThresholdPercent: config.alerts.warningThresholdPercent,
      },
    }),
    relayCredentials: createRelayCredentialService({ db, clock }),
    restrictionQueries: createRestrictionQueries({ db }),
    restrictionLoaders: createRestrictionLoaders({ db }),
    roles: createRoleService({ db, clock, events }),
    policies: createPolicyService({ db, clock }),
    rules: createRuleService({ db, clock }),
    tenantAdmin: createTenantAdminService({ db, clock }),
    restrictUser: createManualRestriction({ db, clock, restrictions }),
    unblock: createUnblockService({ db, clock, quota: config.unblockQuota }),
    expiry: createExpiryScheduler({ db, clock, intervalMs: config.scheduler.expiryIntervalMs, logger }),
    alerts: createAlertService({ db, clock, aggregationSeconds: config.alerts.aggregationSeconds }),
    alertQueries,
    alertPolicies: createAlertPolicyService({ db, clock, warningThresholdPercent: config.alerts.warningThresholdPercent }),
    auditQueries: createAuditQueries({ db }),
    /** The notification outbox worker: e-mail when an SMTP server is configured, Teams when the bot hands in its hook. */
    notificationWorker: (teams?: TeamsNotificationHook) =>
      createNotificationWorker({ db, clock, logger, deliverers: { email: alertMailer?.deliver, teams: teams && ((n, a, signal) => teams.deliverTeams(n, a, signal)) } }),
  };
}

export type Services = ReturnType<typeof createServices>;
