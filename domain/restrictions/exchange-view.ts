import type { Restriction } from '../../db/repos/restrictions.ts';

/** The shape of Exchange Online's Get-BlockedSenderAddress output. */
export interface BlockedSenderAddress {
  SenderAddress: string;
  Reason: string;
  CreatedDatetime: string;
  ChangedDatetime: string;
  TemporaryBlock: boolean;
}

const exchangeLimitType: Record<string, string> = {
  RecipientLimitExternalPerHour: 'External',
  RecipientLimitInternalPerHour: 'Internal',
  RecipientLimitPerDay: 'Total',
  ServiceRecipientsPerDay: 'Total',
};

/** `EmailSendingLimitExceeded;InternalRecipientCountToday=…;ExternalRecipientCountToday=…;ExceedingLimitType=External;LastMessageRcptCount=…` */
export function exchangeReason(r: Pick<Restriction, 'reasonCode' | 'exceededLimit' | 'internalRecipientCount' | 'externalRecipientCount' | 'lastMessageRecipientCount'>): string {
  const head = r.reasonCode === 'SendingLimitExceeded' || r.reasonCode === 'ServiceRecipientLimit' ? 'EmailSendingLimitExceeded' : r.reasonCode;
  const parts = [head, `InternalRecipientCountToday=${r.internalRecipientCount}`, `ExternalRecipientCountToday=${r.externalRecipientCount}`];
  if (r.exceededLimit) parts.push(`ExceedingLimitType=${exchangeLimitType[r.exceededLimit] ?? r.exceededLimit}`);
  if (r.lastMessageRecipientCount !== null) parts.push(`LastMessageRcptCount=${r.lastMessageRecipientCount}`);
  return parts.join(';');
}

export function toBlockedSenderAddress(r: Restriction): BlockedSenderAddress {
  return {
    SenderAddress: r.entityKey,
    Reason: exchangeReason(r),
    CreatedDatetime: r.createdAt.toISOString(),
    ChangedDatetime: r.changedAt.toISOString(),
    TemporaryBlock: r.temporary,
  };
}
