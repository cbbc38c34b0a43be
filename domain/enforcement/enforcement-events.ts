import type { StoredEvent } from '../events/event-types.ts';
import { configChangeTypes } from '../tenants/config-change.ts';
import type { ConnectorGuard } from './connector-guard.ts';
import type { RestrictionCache } from './restriction-cache.ts';
import type { TenantDirectory } from './tenant-directory.ts';

const configChanges = new Set<string>(configChangeTypes);

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' ? value : null;
}

/**
 * Keeps enforcement's memory in step with changes made by any process: restriction events
 * update the restricted-sender and connector caches; a configuration change (policy, rule, domain
 * or settings) drops that tenant's cached configuration and leases. Other events (alerts, role
 * changes, sending-limit signals) concern nothing enforcement keeps.
 */
export function createEnforcementEvents(deps: {
  directory: TenantDirectory;
  restricted: RestrictionCache;
  connectors: ConnectorGuard;
  /** Leases are given back when their sender's restriction or their tenant's configuration changes. */
  leases?: { close(tenantId: string, sender?: string): void };
  /** Restrictions already read, by id: an extended one is read again. */
  known?: Map<string, unknown>;
}) {
  return (event: StoredEvent): void => {
    if (event.entityKind === 'connector') {
      if (event.type !== 'SendingLimitExceeded') deps.connectors.invalidate();
      return;
    }
    if (event.type === 'UserRestricted') {
      deps.leases?.close(event.tenantId, event.entityKey);
      const restrictionId = text(event.payload, 'restrictionId');
      const expiresAt = text(event.payload, 'expiresAt');
      if (restrictionId) {
        deps.known?.delete(restrictionId);
        deps.restricted.set(event.tenantId, event.entityKey, {
          restrictionId,
          reasonCode: text(event.payload, 'reasonCode') ?? 'SendingLimitExceeded',
          expiresAt: expiresAt ? new Date(expiresAt) : null,
        });
      }
      return;
    }
    if (event.type === 'UserReleased' || event.type === 'RestrictionExpired') {
      deps.restricted.delete(event.tenantId, event.entityKey);
      deps.leases?.close(event.tenantId, event.entityKey);
      return;
    }
    if (configChanges.has(event.type)) {
      deps.directory.invalidate(event.tenantId);
      deps.leases?.close(event.tenantId);
    }
  };
}
