import type { Release } from '../../db/repos/restrictions.ts';
import { recommendationKinds, type RecommendationKind } from '../../domain/restrictions/recommendations.ts';
import { builder } from '../builder.ts';
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
    approvedBy: t.exposeString('approvedBy', { nullable: true, description: 'The second admin, when the tenant requires two.' }),
    reason: t.exposeString('reason'),
    acknowledgedRecommendations: t.field({ type: [RecommendationKindEnum], resolve: (r) => r.acknowledgedRecommendations.filter(isKind) }),
    limitExemptUntil: t.expose('limitExemptUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'Until then, sending limits do not restrict this sender again (end of the UTC day of the release).',
    }),
  }),
});
