import { z } from 'zod';
import type { AlertKind } from '../../db/repos/alerts.ts';
import { sendingLimitEventTypes, type StoredEvent } from '../events/event-types.ts';
import { canonicalAddress } from '../mail-address.ts';

/** What an alert remembers about the event that raised it (the latest one, after aggregation). */
export interface AlertDetails {
  reasonCode: string | null;
  exceededLimit: string | null;
  limitValue: number | null;
  /** Recipients counted against the limit when the event happened. */
  count: number | null;
  internalRecipientCount: number;
  externalRecipientCount: number;
  policyName: string | null;
  thresholdPercent: number | null;
  temporary: boolean | null;
  expiresAt: string | null;
  actorName: string | null;
  /** The free text of the admin who restricted (or extended) it, as they wrote it. */
  restrictionDetails: string | null;
  /** When an admin last made the restriction last longer (ISO), if one did. */
  extendedAt: string | null;
}

/** An event seen through the eyes of the alert policies. */
export interface AlertSignal {
  kind: AlertKind;
  entityKind: 'user' | 'connector';
  entityKey: string;
  restrictionId: string | null;
  title: string;
  details: AlertDetails;
  /** The event made an existing restriction last longer: it is no new incident. */
  extension: boolean;
}

const restrictionPayload = z.object({
  restrictionId: z.string().uuid(),
  entityKind: z.enum(['user', 'connector']),
  entityKey: z.string().min(1),
  reasonCode: z.string(),
  exceededLimit: z.string().nullable(),
  limitValue: z.number().nullable(),
  internalRecipientCount: z.number(),
  externalRecipientCount: z.number(),
  policyName: z.string().nullable(),
  temporary: z.boolean(),
  expiresAt: z.string().nullable(),
  actorName: z.string(),
  extended: z.boolean().optional(),
  details: z.string().nullable().optional(),
});

/** `SendingLimitEventPayload` (domain/events/event-types.ts), read leniently; `restrictionId` when one was made. */
const sendingLimitPayload = z.object({
  sender: z.string().min(1),
  limit: z.string().min(1),
  limitValue: z.number(),
  count: z.number(),
  internalRecipientCount: z.number(),
  externalRecipientCount: z.number(),
  policyName: z.string().nullable().optional(),
  thresholdPercent: z.number().nullable().optional(),
  restrictionId: z.string().uuid().nullable().optional(),
});

export const alertSourceEventTypes = ['UserRestricted', 'ConnectorRestricted', ...sendingLimitEventTypes] as const;

function fromRestriction(event: StoredEvent): AlertSignal | undefined {
  const parsed = restrictionPayload.safeParse(event.payload);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const who = p.entityKind === 'user' ? p.entityKey : `Connector ${p.entityKey}`;
  return {
    kind: 'UserRestricted',
    entityKind: p.entityKind,
    entityKey: p.entityKey,
    restrictionId: p.restrictionId,
    title: `${who} is restricted from sending email`,
    extension: p.extended === true,
    details: {
      reasonCode: p.reasonCode,
      exceededLimit: p.exceededLimit,
      limitValue: p.limitValue,
      count: null,
      internalRecipientCount: p.internalRecipientCount,
      externalRecipientCount: p.externalRecipientCount,
      policyName: p.policyName,
      thresholdPercent: null,
      temporary: p.temporary,
      expiresAt: p.expiresAt,
      actorName: p.actorName,
      restrictionDetails: p.details ?? null,
      extendedAt: p.extended === true ? event.occurredAt.toISOString() : null,
    },
  };
}

function fromSendingLimit(event: StoredEvent, kind: 'SendingLimitExceeded' | 'SendingLimitNearlyReached'): AlertSignal | undefined {
  const parsed = sendingLimitPayload.safeParse(event.payload);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const sender = canonicalAddress(p.sender);
  const title =
    kind === 'SendingLimitExceeded'
      ? `${sender} exceeded the sending limit ${p.limit}`
      : `${sender} is close to the sending limit ${p.limit}`;
  return {
    kind,
    entityKind: 'user',
    entityKey: sender,
    restrictionId: p.restrictionId ?? null,
    title,
    extension: false,
    details: {
      reasonCode: null,
      exceededLimit: p.limit,
      limitValue: p.limitValue,
      count: p.count,
      internalRecipientCount: p.internalRecipientCount,
      externalRecipientCount: p.externalRecipientCount,
      policyName: p.policyName ?? null,
      thresholdPercent: p.thresholdPercent ?? null,
      temporary: null,
      expiresAt: null,
      actorName: null,
      restrictionDetails: null,
      extendedAt: null,
    },
  };
}

/** The alert signal an event carries, if any; events of other types, or malformed ones, carry none. */
export function alertSignalOf(event: StoredEvent): AlertSignal | undefined {
  switch (event.type) {
    case 'UserRestricted':
    case 'ConnectorRestricted':
      return fromRestriction(event);
    case 'SendingLimitExceeded':
    case 'SendingLimitNearlyReached':
      return fromSendingLimit(event, event.type);
    default:
      return undefined;
  }
}

const storedDetails = z.object({
  reasonCode: z.string().nullable().catch(null),
  exceededLimit: z.string().nullable().catch(null),
  limitValue: z.number().nullable().catch(null),
  count: z.number().nullable().catch(null),
  internalRecipientCount: z.number().catch(0),
  externalRecipientCount: z.number().catch(0),
  policyName: z.string().nullable().catch(null),
  thresholdPercent: z.number().nullable().catch(null),
  temporary: z.boolean().nullable().catch(null),
  expiresAt: z.string().nullable().catch(null),
  actorName: z.string().nullable().catch(null),
  restrictionDetails: z.string().nullable().catch(null),
  extendedAt: z.string().nullable().catch(null),
});

/** An alert's stored details, read defensively: a missing or odd field reads as null (or 0). */
export function parseAlertDetails(details: unknown): AlertDetails {
  return storedDetails.parse(typeof details === 'object' && details !== null ? details : {});
}
