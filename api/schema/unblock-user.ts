import { NotRestrictedError, RestrictionChangedError, SecondApprovalRequiredError, UnblockQuotaExceededError, ValidationError } from '../../domain/restrictions/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { rowIdOf } from '../global-id.ts';
import { ErrorInterface } from './errors.ts';
import { RecommendationKindEnum } from './recommendation.ts';
import { RestrictedUser } from './restricted-user.ts';

builder.objectType(NotRestrictedError, {
  name: 'NotRestrictedError',
  description: 'Nothing to release: the sender (or connector) has no active restriction. Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    entityKey: t.exposeString('entityKey', { description: 'The sender address or connector id.' }),
    lastRestrictionId: t.globalID({
      nullable: true,
      description: 'The latest (released or expired) restriction, if there ever was one.',
      resolve: (e) => (e.lastRestrictionId ? { id: e.lastRestrictionId, type: e.entityKind === 'user' ? 'RestrictedUser' : 'RestrictedConnector' } : null),
    }),
  }),
});

const restrictionType = (kind: 'user' | 'connector') => (kind === 'user' ? 'RestrictedUser' : 'RestrictedConnector');

builder.objectType(RestrictionChangedError, {
  name: 'RestrictionChangedError',
  description:
    'The restriction named by `restrictionId` is no longer the active one: the sender (or connector) was released and restricted again since. Nothing was released; look at the active restriction before you release it.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    senderAddress: t.exposeString('entityKey', { description: 'The sender address, or for unblockConnector the connector id (also in entityKey).' }),
    entityKey: t.exposeString('entityKey', { description: 'The sender address or connector id.' }),
    expectedRestrictionId: t.globalID({ description: 'The restriction you meant.', resolve: (e) => ({ id: e.expectedRestrictionId, type: restrictionType(e.entityKind) }) }),
    activeRestrictionId: t.globalID({ description: 'The restriction active now.', resolve: (e) => ({ id: e.activeRestrictionId, type: restrictionType(e.entityKind) }) }),
  }),
});

builder.objectType(UnblockQuotaExceededError, {
  name: 'UnblockQuotaExceededError',
  description: 'The sender was released too often recently; says how often and when a release is possible again.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    senderAddress: t.exposeString('entityKey'),
    releaseCount: t.exposeInt('releaseCount'),
    maxReleases: t.exposeInt('maxReleases'),
    windowDays: t.exposeInt('windowDays'),
    resetsAt: t.expose('resetsAt', { type: 'DateTime' }),
  }),
});

builder.objectType(SecondApprovalRequiredError, {
  name: 'SecondApprovalRequiredError',
  description: "Past the quota the tenant requires a second admin: the request is recorded and waits for another admin's unblock.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    senderAddress: t.exposeString('entityKey'),
    requestedBy: t.exposeString('requestedBy'),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
  }),
});

/** The row id inside a RestrictedUser global id; anything else is the caller's mistake, not a fault. */
const restrictedUserRowId = (globalId: string) => rowIdOf(globalId, 'RestrictedUser', 'restrictionId', 'restrictionId is not the id of a restricted user');

const UnblockUserInput = builder.inputType('UnblockUserInput', {
  fields: (t) => ({
    senderAddress: t.string({
      required: true,
      description: 'The restricted sender: an address in any spelling of it, or a relay user name. One with white space or control characters is a ValidationError.',
    }),
    reason: t.string({ required: true, description: 'Why the sender may send again (kept with the release and in the audit log).' }),
    acknowledgedRecommendations: t.field({
      type: [RecommendationKindEnum],
      defaultValue: [],
      description: 'Recorded as given; the Teams bot is where the required steps are insisted on.',
    }),
    restrictionId: t.id({
      description:
        'Release only if this (a RestrictedUser id) is still the active restriction, so a late or repeated click cannot release a newer one. ' +
        'If it was released or expired the answer is NotRestrictedError; if the sender was restricted again since, RestrictionChangedError; if it is not one of this sender\'s restrictions, ValidationError. Nothing is written.',
    }),
    dryRun: t.boolean({
      defaultValue: false,
      description:
        "Decide as the release would, with what only the database knows (the unblock quota, a second admin's approval, a newer restriction), and write nothing: no release, audit record, event or request for approval. " +
        'The answer is the one the call would give; its restrictedUser shows the restriction as released, and fields read from elsewhere (releases, unblockQuota) show the database as it is.',
    }),
  }),
});

builder.mutationField('unblockUser', (t) =>
  t.field({
    type: RestrictedUser,
    authScopes: { manage: true },
    description: 'Releases a restricted sender: effective everywhere within a second. Idempotent.',
    args: { input: t.arg({ type: UnblockUserInput, required: true }) },
    errors: {
      types: [NotRestrictedError, RestrictionChangedError, UnblockQuotaExceededError, SecondApprovalRequiredError, ValidationError],
      union: { name: 'UnblockUserResult' },
      result: { name: 'UnblockUserSuccess' },
      dataField: { name: 'restrictedUser' },
    },
    resolve: async (_root, { input }, { services, viewer }) => {
      const result = await services.unblock.release({
        tenantId: viewer.tenantId,
        entityKind: 'user',
        entityKey: input.senderAddress,
        reason: input.reason,
        acknowledgedRecommendations: input.acknowledgedRecommendations ?? [],
        actor: actorOf(viewer),
        expectedRestrictionId: input.restrictionId === null || input.restrictionId === undefined ? undefined : restrictedUserRowId(String(input.restrictionId)),
        dryRun: input.dryRun ?? false,
      });
      if (!result.ok) throw result.error;
      return result.restriction;
    },
  }),
);
