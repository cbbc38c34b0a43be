import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Restriction } from '../../db/repos/restrictions.ts';
import { validSenderKey } from '../../domain/policies/policy-validation.ts';
import { toBlockedSenderAddress } from '../../domain/restrictions/exchange-view.ts';
import { recommendations } from '../../domain/restrictions/recommendations.ts';
import { HISTORY_PER_ENTITY } from '../../domain/restrictions/restriction-loaders.ts';
import type { ReasonCode } from '../../domain/restrictions/restriction-service.ts';
import { describeRestriction } from '../../domain/restrictions/restriction-reason.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/restrictions/restriction-queries.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { boundedFirst, listSize, pageSize } from '../list-size.ts';
import { toConnection } from './connection.ts';
import { RecommendationRef } from './recommendation.ts';
import { MAX_RELEASES, ReleaseRef, releasesOf } from './release.ts';
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
    recommendations: t.field({ type: [RecommendationRef], extensions: listSize({ max: recommendations.length }), resolve: () => [...recommendations] }),
    releases: t.field({
      type: [ReleaseRef],
      description: `The sender's releases, newest first (the unblock quota counts these): the first \`first\` of them, at most ${MAX_RELEASES}.`,
      args: { first: t.arg.int({ defaultValue: MAX_RELEASES }) },
      extensions: listSize({ max: MAX_RELEASES, slicingArguments: ['first'] }),
      resolve: (r, { first }, ctx) => releasesOf(ctx, 'user', r.entityKey, first),
    }),
    blockedSenderAddress: t.field({ type: BlockedSenderAddressRef, resolve: (r) => toBlockedSenderAddress(r) }),
  }),
});

const historyLoader = createContextCache(
  (ctx: GraphQLContext) => new DataLoader<string, Restriction[]>((keys) => ctx.services.restrictionLoaders.historyOf(ctx.viewer.tenantId, 'user', keys)),
);

// A list with a bound the query cost multiplies: a history nested in a history costs its square.
builder.objectField(RestrictedUser, 'history', (t) =>
  t.field({
    type: [RestrictedUser],
    description: `The sender's restrictions, newest first, this one included: the first \`first\` of them, at most ${HISTORY_PER_ENTITY}.`,
    args: { first: t.arg.int({ defaultValue: HISTORY_PER_ENTITY }) },
    extensions: listSize({ max: HISTORY_PER_ENTITY, slicingArguments: ['first'] }),
    resolve: async (r, { first }, ctx) => {
      const size = boundedFirst(first, HISTORY_PER_ENTITY);
      return (await historyLoader(ctx).load(r.entityKey)).slice(0, size);
    },
  }),
);

builder.queryField('restrictedUsers', (t) =>
  t.connection(
    {
      type: RestrictedUser,
      authScopes: { read: true },
      description: 'Restricted senders, newest first by default; at most 100 per page.',
      extensions: pageSize(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
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
    resolve: async (_root, { senderAddress }, { services, viewer }) =>
      (await services.restrictionQueries.latest(viewer.tenantId, 'user', validSenderKey('senderAddress', senderAddress))) ?? null,
  }),
);
