import type { Db } from '../../db/client.ts';
import type { Alert } from '../../db/repos/alerts.ts';
import { appendEvent } from '../../db/repos/events.ts';

/** Events alerts publish on the event bus, so every process can stream them (the `alerts` subscription). */
export const alertEventTypes = ['AlertRaised', 'AlertUpdated'] as const;
export type AlertEventType = (typeof alertEventTypes)[number];

export interface AlertEventPayload {
  alertId: string;
  policyId: string;
  kind: string;
  severity: string;
  status: string;
  title: string;
  entityKind: string;
  entityKey: string;
  restrictionId: string | null;
  hitCount: number;
}

export function isAlertEvent(type: string): type is AlertEventType {
  return (alertEventTypes as readonly string[]).includes(type);
}

export async function appendAlertEvent(tx: Db, type: AlertEventType, alert: Alert, at: Date): Promise<void> {
  const payload: AlertEventPayload = {
    alertId: alert.id,
    policyId: alert.policyId,
    kind: alert.kind,
    severity: alert.severity,
    status: alert.status,
    title: alert.title,
    entityKind: alert.entityKind,
    entityKey: alert.entityKey,
    restrictionId: alert.restrictionId,
    hitCount: alert.hitCount,
  };
  await appendEvent(tx, { tenantId: alert.tenantId, type, entityKind: 'alert', entityKey: alert.id, payload: { ...payload }, occurredAt: at });
}
