import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { appendEvent } from '../../db/repos/events.ts';
import { updateTenantSettings } from '../../db/repos/tenants.ts';
import { alerts, notifications } from '../../db/schema/alerts.ts';
import { roleAssignments } from '../../db/schema/role-assignments.ts';
import { teamsConversations } from '../../db/schema/teams.ts';
import type { SendingLimitEventPayload, StoredEvent } from '../../domain/events/event-types.ts';
import { policyActor } from '../helpers/services.ts';

export async function grantRole(database: Database, tenantId: string, principalId: string, role: string): Promise<void> {
  await database.db.insert(roleAssignments).values({ tenantId, principalId, role, createdBy: 'test' });
}

export async function addConversation(database: Database, tenantId: string, conversationId: string, subscribed: boolean): Promise<void> {
  await database.db.insert(teamsConversations).values({
    tenantId,
    conversationId,
    conversationType: 'channel',
    serviceUrl: 'http://127.0.0.1:3978/',
    reference: { conversation: { id: conversationId } },
    subscribed,
  });
}

export async function setAuditLog(database: Database, tenantId: string, enabled: boolean): Promise<void> {
  await updateTenantSettings(database.db, tenantId, { auditLogEnabled: enabled }, new Date());
}

/** Appends a `SendingLimitExceeded` / `SendingLimitNearlyReached` event, committed like enforcement does. */
export async function appendLimitEvent(
  database: Database,
  tenantId: string,
  type: 'SendingLimitExceeded' | 'SendingLimitNearlyReached',
  payload: Partial<SendingLimitEventPayload> & { sender: string },
  occurredAt: Date,
): Promise<StoredEvent> {
  const full: SendingLimitEventPayload = {
    limit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    count: type === 'SendingLimitExceeded' ? 101 : 80,
    internalRecipientCount: 3,
    externalRecipientCount: type === 'SendingLimitExceeded' ? 101 : 80,
    policyName: 'Default',
    ...(type === 'SendingLimitNearlyReached' ? { thresholdPercent: 80 } : {}),
    ...payload,
  };
  return database.db.transaction((tx) =>
    appendEvent(tx, { tenantId, type, entityKind: 'user', entityKey: full.sender, payload: { ...full }, occurredAt }),
  );
}

export function limitRestriction(tenantId: string, address: string) {
  return {
    tenantId,
    entityKind: 'user' as const,
    entityKey: address,
    reasonCode: 'SendingLimitExceeded' as const,
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    internalRecipientCount: 12,
    externalRecipientCount: 100,
    lastMessageRecipientCount: 7,
    policy: { id: null, name: 'Default', action: 'BlockUserForToday' },
    temporary: true,
    expiresAt: new Date('2026-11-27T00:00:00Z'),
    actor: policyActor,
  };
}

export async function alertsOf(database: Database, tenantId: string) {
  return database.db.select().from(alerts).where(eq(alerts.tenantId, tenantId)).orderBy(asc(alerts.firstSeenAt), asc(alerts.id));
}

export async function notificationsOf(database: Database, tenantId: string) {
  return database.db.select().from(notifications).where(eq(notifications.tenantId, tenantId)).orderBy(asc(notifications.createdAt), asc(notifications.channel), asc(notifications.recipient));
}
