import type { Restriction } from '../../db/repos/restrictions.ts';
import { NotRestrictedError, RestrictionChangedError, ValidationError } from '../../domain/restrictions/errors.ts';
import type { ReasonCode } from '../../domain/restrictions/restriction-service.ts';
import { describeRestriction } from '../../domain/restrictions/restriction-reason.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/restrictions/restriction-queries.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { rowIdOf } from '../global-id.ts';
import { listSize, pageSize } from '../list-size.ts';
import { toConnection } from './connection.ts';
import { MAX_RELEASES, ReleaseRef, releasesOf } from './release.ts';
import {
  RestrictionFilterInput,
  RestrictionOrderInput,
  RestrictionReasonEnum,
  RestrictionStatusEnum,
  toRestrictionFilter,
  toRestrictionOrder,
} from './restriction-enums.ts';

export const RestrictedConnector = builder.loadableNode('RestrictedConnector', {
  description: 'A restricted inbound connector (on-premises servers relaying through Sendguard); its mail is refused with 550 5.7.711.',
  id: { resolve: (r: Restriction) => r.id },
  load: (ids: string[], ctx) => ctx.services.restrictionLoaders.byIds(ctx.viewer.tenantId, 'connector', ids),
  fields: (t) => ({
    connectorId: t.exposeString('entityKey'),
    connectorName: t.loadable({
      type: 'String',
      nullable: true,
      description: 'Null if the connector was deleted since.',
      load: async (ids: string[], ctx) => (await ctx.services.restrictionLoaders.connectors(ctx.viewer.tenantId, ids)).map((c) => c?.name ?? null),
      resolve: (r) => r.entityKey,
    }),
    reason: t.string({ resolve: (r) => describeRestriction(r) }),
    reasonCode: t.field({ type: RestrictionReasonEnum, resolve: (r) => r.reasonCode as ReasonCode }),
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
    releases: t.field({
      type: [ReleaseRef],
      description: `The connector's releases, newest first: the first \`first\` of them, at most ${MAX_RELEASES}.`,
      args: { first: t.arg.int({ defaultValue: MAX_RELEASES }) },
      extensions: listSize({ max: MAX_RELEASES, slicingArguments: ['first'] }),
      resolve: (r, { first }, ctx) => releasesOf(ctx, 'connector', r.entityKey, first),
    }),
  }),
});

builder.queryField('restrictedConnectors', (t) =>
  t.connection(
    {
      type: RestrictedConnector,
      authScopes: { read: true },
      description: 'Restricted connectors (search matches the connector id); at most 100 per page.',
      extensions: pageSize(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
      args: { filter: t.arg({ type: RestrictionFilterInput }), orderBy: t.arg({ type: RestrictionOrderInput }) },
      resolve: async (_root, args, { services, viewer }) =>
        toConnection(await services.restrictionQueries.list(viewer.tenantId, 'connector', toRestrictionFilter(args.filter), toRestrictionOrder(args.orderBy), args)),
    },
    { name: 'RestrictedConnectorConnection' },
    { name: 'RestrictedConnectorEdge' },
  ),
);

/** The row id inside a RestrictedConnector global id; anything else is the caller's mistake, not a fault. */
const restrictedConnectorRowId = (globalId: string) => rowIdOf(globalId, 'RestrictedConnector', 'restrictionId', 'restrictionId is not the id of a restricted connector');

const UnblockConnectorInput = builder.inputType('UnblockConnectorInput', {
  fields: (t) => ({
    connectorId: t.string({ required: true }),
    reason: t.string({ required: true }),
    restrictionId: t.id({
      description:
        'Release only if this (a RestrictedConnector id) is still the active restriction, so a late or repeated click cannot release a newer one. ' +
        "If it was released or expired the answer is NotRestrictedError; if the connector was restricted again since, RestrictionChangedError; if it is not one of this connector's restrictions, ValidationError. Nothing is written.",
    }),
    dryRun: t.boolean({
      defaultValue: false,
      description:
        'Decide as the release would and write nothing: no release, audit record or event. ' +
        'The answer is the one the call would give; its restrictedConnector shows the restriction as released, and its releases show the database as it is.',
    }),
  }),
});

builder.mutationField('unblockConnector', (t) =>
  t.field({
    type: RestrictedConnector,
    authScopes: { manage: true },
    description: 'Releases a restricted connector. Idempotent.',
    args: { input: t.arg({ type: UnblockConnectorInput, required: true }) },
    errors: {
      types: [NotRestrictedError, RestrictionChangedError, ValidationError],
      union: { name: 'UnblockConnectorResult' },
      result: { name: 'UnblockConnectorSuccess' },
      dataField: { name: 'restrictedConnector' },
    },
    resolve: async (_root, { input }, { services, viewer }) => {
      const result = await services.unblock.release({
        tenantId: viewer.tenantId,
        entityKind: 'connector',
        entityKey: input.connectorId,
        reason: input.reason,
        acknowledgedRecommendations: [],
        actor: actorOf(viewer),
        expectedRestrictionId: input.restrictionId === null || input.restrictionId === undefined ? undefined : restrictedConnectorRowId(String(input.restrictionId)),
        dryRun: input.dryRun ?? false,
      });
      if (!result.ok) throw result.error;
      return result.restriction;
    },
  }),
);
