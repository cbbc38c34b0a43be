import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { EntityKind, Release } from '../../db/repos/restrictions.ts';
import { recommendationKinds, type RecommendationKind } from '../../domain/restrictions/recommendations.ts';
import { HISTORY_PER_ENTITY } from '../../domain/restrictions/restriction-loaders.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { boundedFirst } from '../list-size.ts';
import { RecommendationKindEnum } from './recommendation.ts';

const isKind = (k: string): k is RecommendationKind => (recommendationKinds as readonly string[]).includes(k);

export const ReleaseRef = builder.objectRef<Release>('Release').implement({
  description: 'An admin released (unblocked) a restriction.',
  fields: (t) => ({
    restrictionId: t.globalID({
      description: 'The restriction this release ended (a RestrictedUser or RestrictedConnector id).',
      resolve: (r) => ({ id: r.restrictionId, type: r.entityKind === 'user' ? 'RestrictedUser' : 'RestrictedConnector' }),
    }),
    releasedAt: t.expose('releasedAt', { type: 'DateTime' }),
    releasedBy: t.exposeString('actorName', { description: 'Display name of the admin.' }),
    releasedById: t.exposeString('actorId', { description: 'Object id or principal name of the admin.' }),
    releasedByRoles: t.exposeStringList('actorRoles'),
    approvedBy: t.exposeString('approvedBy', {
      nullable: true,
      description: 'The second admin, when the release approved another admin\'s request (the tenant requires two past the quota).',
      deprecationReason: "Always the same as releasedBy: the second admin's unblockUser is the release. Whose request it approved is in the audit log's Delisted record (details.approvalOf).",
    }),
    reason: t.exposeString('reason'),
    acknowledgedRecommendations: t.field({ type: [RecommendationKindEnum], resolve: (r) => r.acknowledgedRecommendations.filter(isKind) }),
    limitExemptUntil: t.expose('limitExemptUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'Until then, sending limits do not restrict this sender again (end of the UTC day of the release).',
    }),
  }),
});

const releaseLoaders = createContextCache((ctx: GraphQLContext) => {
  const loaderFor = (kind: EntityKind) => new DataLoader<string, Release[]>((keys) => ctx.services.restrictionLoaders.releasesOf(ctx.viewer.tenantId, kind, keys));
  return { user: loaderFor('user'), connector: loaderFor('connector') };
});

/** The most releases a `releases` field lists. */
export const MAX_RELEASES = HISTORY_PER_ENTITY;

/** The entity's releases, newest first: the first `first` of them (batched per request). */
export async function releasesOf(ctx: GraphQLContext, kind: EntityKind, entityKey: string, first: number | null | undefined): Promise<Release[]> {
  const size = boundedFirst(first, MAX_RELEASES);
  return (await releaseLoaders(ctx)[kind].load(entityKey)).slice(0, size);
}
