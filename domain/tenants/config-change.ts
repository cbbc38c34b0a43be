import type { Db } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import type { Actor } from '../actor.ts';

export const configChangeTypes = ['OutboundSpamPolicyChanged', 'OutboundSpamRuleChanged', 'AcceptedDomainsChanged', 'TenantSettingsChanged'] as const;
export type ConfigChangeType = (typeof configChangeTypes)[number];

/**
 * Tells every process that a tenant's configuration changed (in the caller's transaction), so
 * enforcement drops what it cached for the tenant at once instead of when its cache expires.
 */
export async function recordConfigChange(tx: Db, change: { tenantId: string; type: ConfigChangeType; target: string; actor: Actor; at: Date }): Promise<void> {
  await appendEvent(tx, {
    tenantId: change.tenantId,
    type: change.type,
    entityKind: 'tenant',
    entityKey: change.target,
    payload: { actorId: change.actor.id, actorName: change.actor.name },
    occurredAt: change.at,
  });
}
