import { builder } from '../builder.ts';

export const RestrictionReasonEnum = builder.enumType('RestrictionReason', {
  values: {
    SENDING_LIMIT_EXCEEDED: { value: 'SendingLimitExceeded', description: 'Crossed a limit of its outbound spam policy.' },
    SERVICE_RECIPIENT_LIMIT: { value: 'ServiceRecipientLimit', description: 'Reached the service rolling 24-hour recipient limit; clears by itself.' },
    SUSPECTED_COMPROMISE: { value: 'SuspectedCompromise', description: 'An admin restricted the sender as likely compromised.' },
    MANUAL_BLOCK: { value: 'ManualBlock', description: 'An admin restricted the sender.' },
  } as const,
});

export const RestrictionStatusEnum = builder.enumType('RestrictionStatus', {
  values: {
    RESTRICTED: { value: 'Restricted', description: 'Active: sending is refused.' },
    RELEASED: { value: 'Released', description: 'An admin released it.' },
    EXPIRED: { value: 'Expired', description: 'The temporary block ended by itself.' },
  } as const,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', { values: { ASC: { value: 'ASC' }, DESC: { value: 'DESC' } } as const });

export const RestrictionOrderFieldEnum = builder.enumType('RestrictionOrderField', {
  values: { RESTRICTED_AT: { value: 'createdAt' }, ENTITY_KEY: { value: 'entityKey', description: 'Sender address or connector id.' } } as const,
});

export const RestrictionOrderInput = builder.inputType('RestrictionOrder', {
  fields: (t) => ({
    field: t.field({ type: RestrictionOrderFieldEnum, required: true, defaultValue: 'createdAt' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'DESC' }),
  }),
});

export const RestrictionFilterInput = builder.inputType('RestrictionFilter', {
  description: 'Without a status, only active restrictions are listed.',
  fields: (t) => ({
    search: t.string({
      description:
        'Substring of the sender address (or connector id), case-insensitive. An internationalised domain label in it, written in UTF-8, also matches its ASCII form, as addresses are kept (bücher finds xn--bcher-kva).',
    }),
    reason: t.field({ type: [RestrictionReasonEnum] }),
    temporary: t.boolean(),
    status: t.field({ type: [RestrictionStatusEnum] }),
  }),
});

type FilterArg = { search?: string | null; reason?: string[] | null; temporary?: boolean | null; status?: ('Restricted' | 'Released' | 'Expired')[] | null } | null | undefined;
type OrderArg = { field: 'createdAt' | 'entityKey'; direction: 'ASC' | 'DESC' } | null | undefined;

export function toRestrictionFilter(filter: FilterArg) {
  return {
    search: filter?.search ?? undefined,
    reasonCodes: filter?.reason ?? undefined,
    temporary: filter?.temporary ?? undefined,
    statuses: filter?.status && filter.status.length > 0 ? filter.status : undefined,
  };
}

export function toRestrictionOrder(order: OrderArg) {
  return { field: order?.field ?? 'createdAt', descending: (order?.direction ?? 'DESC') === 'DESC' };
}
