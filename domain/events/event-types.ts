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
  /** The free text an admin wrote about the restriction (on an extension: the extending admin's). */
  details?: string | null;
  /** On `UserRestricted`/`ConnectorRestricted`: an admin's block made the active restriction last longer. */
  extended?: boolean;
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

/** Appended by enforcement (domain/enforcement); consumed by alerts. */
export const sendingLimitEventTypes = ['SendingLimitExceeded', 'SendingLimitNearlyReached'] as const;
export type SendingLimitEventType = (typeof sendingLimitEventTypes)[number];

/**
 * Payload of `SendingLimitExceeded` (a policy limit crossed under the `Alert` action; at most once
 * per sender, limit and window) and `SendingLimitNearlyReached` (a count passed
 * `thresholdPercent` of a limit; once per sender, limit and window). The event's entity is the
 * user (`entityKind: 'user'`, `entityKey` = the counted sender).
 */
export interface SendingLimitEventPayload {
  /** The counted identity: SASL user name when the submitter authenticated, else the envelope sender. */
  sender: string;
  /** `RecipientLimitExternalPerHour` | `RecipientLimitInternalPerHour` | `RecipientLimitPerDay`. */
  limit: string;
  limitValue: number;
  /** Recipients counted against that limit, including the one that triggered the event. */
  count: number;
  /** Last-hour counts for hourly limits, rolling 24-hour counts for the daily limit. */
  internalRecipientCount: number;
  externalRecipientCount: number;
  policyName: string;
  /** `SendingLimitNearlyReached` only. */
  thresholdPercent?: number;
}
