export const restrictionEventTypes = ['UserRestricted', 'UserReleased', 'RestrictionExpired', 'ConnectorRestricted', 'ConnectorReleased'] as const;
export type RestrictionEventType = (typeof restrictionEventTypes)[number];

/** What every restriction event carries, so a subscriber needs no second read. */
export interface RestrictionEventPayload {
  restrictionId: string;
  entityKind: 'user' | 'connector';
  entityKey: string;
  reasonCode: string;
  exceededLimit: string | null;
  limitValue: number | null;
  internalRecipientCount: number;
  externalRecipientCount: number;
  policyName: string | null;
  temporary: boolean;
  expiresAt: string | null;
  actorId: string;
  actorName: string;
  reason?: string | null;
}

export interface NewEvent {
  tenantId: string;
  type: string;
  entityKind: string;
  entityKey: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface StoredEvent extends NewEvent {
  id: number;
}

export const EVENTS_CHANNEL = 'sendguard_events';
