import type { Restriction } from '../../db/repos/restrictions.ts';
import { toBlockedSenderAddress } from '../../domain/restrictions/exchange-view.ts';
import { recommendations } from '../../domain/restrictions/recommendations.ts';
import type { ReasonCode } from '../../domain/restrictions/restriction-service.ts';
import { describeRestriction } from '../../domain/restrictions/restriction-reason.ts';
import { builder } from '../builder.ts';
import { toConnection } from './connection.ts';
import { RecommendationRef } from './recommendation.ts';
import { ReleaseRef } from './release.ts';
import {
  RestrictionFilterInput,
  RestrictionOrderInput,
  RestrictionReasonEnum,
  RestrictionStatusEnum,
  toRestrictionFilter,
  toRestrictionOrder,
} from './restriction-enums.ts';

const BlockedSenderAddressRef = builder.objectRef<ReturnType<typeof toBlockedSenderAddress>>('BlockedSenderAddress').implement({
  description: "The restriction as Exchange Online's Get-BlockedSenderAddress shows it (same field names).",
  fields: (t) => ({
    SenderAddress: t.exposeString('SenderAddress'),
    Reason: t.exposeString('Reason', { description: 'EmailSendingLimitExceeded;InternalRecipientCountToday=…;ExternalRecipientCountToday=…;ExceedingLimitType=…;LastMessageRcptCount=…' }),
    CreatedDatetime: t.field({ type: 'DateTime', resolve: (b) => new Date(b.CreatedDatetime) }),
    ChangedDatetime: t.field({ type: 'DateTime', resolve: (b) => new Date(b.ChangedDatetime) }),
    TemporaryBlock: t.exposeBoolean('TemporaryBlock'),
  }),
});

export const RestrictedUser = builder.loadableNode('RestrictedUser', {
  description: 'A restriction of a sender (one per episode; `history` lists the others of the same sender).',
  id: { resolve: (r: Restriction) => r.id },
  load: (ids: string[], ctx) => ctx.services.restrictionLoaders.byIds(ctx.viewer.tenantId, 'user', ids),
  fields: (t) => ({
    senderAddress: t.exposeString('entityKey'),
    reason: t.string({ description: 'Why the sender is restricted, in one sentence.', resolve: (r) => describeRestriction(r) }),
    reasonCode: t.field({ type: RestrictionReasonEnum, resolve: (r) => r.reasonCode as ReasonCode }),
    exceededLimit: t.exposeString('exceededLimit', { nullable: true, description: 'The policy setting crossed, e.g. RecipientLimitExternalPerHour.' }),
    limitValue: t.exposeInt('limitValue', { nullable: true }),
    internalRecipientCount: t.exposeInt('internalRecipientCount'),
    externalRecipientCount: t.exposeInt('externalRecipientCount'),
    lastMessageRecipientCount: t.exposeInt('lastMessageRecipientCount', { nullable: true }),
    policyName: t.exposeString('policyName', { nullable: true, description: 'The policy that applied when the sender was restricted.' }),
    details: t.exposeString('details', { nullable: true }),
    restrictedAt: t.expose('createdAt', { type: 'DateTime' }),
    restrictedBy: t.exposeString('createdBy'),
    changedAt: t.expose('changedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    temporary: t.exposeBoolean('temporary'),
    status: t.field({ type: RestrictionStatusEnum, resolve: (r) => r.status }),
    releasedAt: t.expose('releasedAt', { type: 'DateTime', nullable: true }),
    releasedBy: t.exposeString('releasedBy', { nullable: true }),
    releaseReason: t.exposeString('releaseReason', { nullable: true }),
    recommendations: t.field({ type: [RecommendationRef], resolve: () => [...recommendations] }),
    releases: t.loadableList({
      type: ReleaseRef,
      description: "The sender's releases, newest first (the unblock quota counts these).",
      load: (keys: string[], ctx) => ctx.services.restrictionLoaders.releasesOf(ctx.viewer.tenantId, 'user', keys),
      resolve: (r) => r.entityKey,
    }),
    blockedSenderAddress: t.field({ type: BlockedSenderAddressRef, resolve: (r) => toBlockedSenderAddress(r) }),
  }),
});

builder.objectField(RestrictedUser, 'history', (t) =>
  t.loadableList({
    type: RestrictedUser,
    description: "The sender's restrictions, newest first, this one included.",
    load: (keys: string[], ctx) => ctx.services.restrictionLoaders.historyOf(ctx.viewer.tenantId, 'user', keys),
    resolve: (r) => r.entityKey,
  }),
);

builder.queryField('restrictedUsers', (t) =>
  t.connection(
    {
      type: RestrictedUser,
      authScopes: { read: true },
      description: 'Restricted senders, newest first by default; at most 100 per page.',
      args: { filter: t.arg({ type: RestrictionFilterInput }), orderBy: t.arg({ type: RestrictionOrderInput }) },
      resolve: async (_root, args, { services, viewer }) =>
        toConnection(await services.restrictionQueries.list(viewer.tenantId, 'user', toRestrictionFilter(args.filter), toRestrictionOrder(args.orderBy), args)),
    },
    { name: 'RestrictedUserConnection' },
    { name: 'RestrictedUserEdge' },
  ),
);

builder.queryField('restrictedUser', (t) =>
  t.field({
    type: RestrictedUser,
    nullable: true,
    authScopes: { read: true },
    description: "The sender's active restriction, else its latest one; null if it was never restricted.",
    args: { senderAddress: t.arg.string({ required: true }) },
    resolve: async (_root, { senderAddress }, { services, viewer }) => (await services.restrictionQueries.latest(viewer.tenantId, 'user', senderAddress)) ?? null,
  }),
);
