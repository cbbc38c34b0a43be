import type { NoticeUser } from './cards/restriction-notice-card.ts';
import type { OutboundSpamPolicy, Recommendation, RestrictedListQuery, RestrictedUser, RestrictedUserPage, UnblockFailure, UnblockQuota, Viewer } from './cards/types.ts';
import { maxListRows } from './cards/restricted-list-card.ts';
import type { UnblockConfirmData } from './cards/verbs.ts';
import type { Caller } from './graphql/bot-tokens.ts';
import type { GraphQLClient } from './graphql/graphql-client.ts';
import { outboundSpamPoliciesQuery } from './graphql/outbound-spam-policies-query.ts';
import { restrictedUserQuery } from './graphql/restricted-user-query.ts';
import { restrictedUsersQuery, type RestrictedUsersVariables } from './graphql/restricted-users-query.ts';
import { releasesOfRestriction, toRestrictedUser, toUnblockQuota } from './graphql/restriction-fields.ts';
import { restrictionQuery } from './graphql/restriction-query.ts';
import { unblockUserMutation } from './graphql/unblock-user-mutation.ts';
import { viewerQuery, type AdminViewer } from './graphql/viewer-query.ts';

export interface UserDetails {
  viewer: Viewer;
  /** The sender's active restriction, else its latest one; null if never restricted. */
  user: RestrictedUser | null;
  recommendations: Recommendation[];
  /** How often the sender was released in the quota window, and what happens past it; null when the tenant has no quota. */
  unblockQuota: UnblockQuota | null;
}

export type UnblockOutcome = { ok: true; user: Pick<RestrictedUser, 'senderAddress' | 'releases'> } | { ok: false; failure: UnblockFailure };

function pageVariables(query: RestrictedListQuery): RestrictedUsersVariables {
  const search = query.search ? { search: query.search } : {};
  if (query.before) return { last: maxListRows, before: query.before, ...search };
  return { first: maxListRows, ...(query.after ? { after: query.after } : {}), ...search };
}

/**
 * What the bot asks Sendguard, always through the GraphQL API and as one caller: the admin who
 * clicked (so the API's authorisation is the only one), or the bot itself for notices.
 */
export function createAdminApi(client: GraphQLClient, caller: Caller) {
  async function details(senderAddress: string): Promise<UserDetails> {
    const data = await client.execute(restrictedUserQuery, { senderAddress }, caller);
    const api = data.restrictedUser;
    const unblockQuota = api ? toUnblockQuota(api.unblockQuota, data.unblockSettings.tenant.requireSecondApproval) : null;
    return { viewer: data.viewer, user: api ? toRestrictedUser(api) : null, recommendations: api?.recommendations ?? [], unblockQuota };
  }

  /** Releases only the restriction the card names: one released or replaced since is a NOT_RESTRICTED failure with the current state. */
  async function unblock(input: UnblockConfirmData): Promise<UnblockOutcome> {
    const { unblockUser: result } = await client.execute(unblockUserMutation, { input: { ...input, acknowledgedRecommendations: [...input.acknowledgedRecommendations] } }, caller);
    switch (result.__typename) {
      case 'UnblockUserSuccess': {
        const { restrictedUser: user } = result;
        const own = user.releasedAt ? releasesOfRestriction({ status: 'RELEASED', releasedAt: user.releasedAt, releasedBy: null, releaseReason: null }, user.releases) : [];
        return { ok: true, user: { senderAddress: user.senderAddress, releases: own } };
      }
      case 'NotRestrictedError':
        return { ok: false, failure: { kind: 'NOT_RESTRICTED', senderAddress: result.entityKey, current: (await details(result.entityKey)).user } };
      case 'RestrictionChangedError':
        return { ok: false, failure: { kind: 'NOT_RESTRICTED', senderAddress: result.senderAddress, current: (await details(result.senderAddress)).user } };
      case 'UnblockQuotaExceededError':
        return { ok: false, failure: { kind: 'UNBLOCK_QUOTA_EXCEEDED', ...result } };
      case 'SecondApprovalRequiredError':
        return { ok: false, failure: { kind: 'SECOND_APPROVAL_REQUIRED', ...result } };
      case 'ValidationError':
        return { ok: false, failure: { kind: 'VALIDATION', field: result.field, message: result.message, retry: null } };
    }
  }

  return {
    caller,
    /** Who the caller is and what the API lets them do. */
    viewer: async (): Promise<AdminViewer> => client.execute(viewerQuery, {}, caller),
    async restrictedUsers(query: RestrictedListQuery): Promise<{ viewer: Viewer; page: RestrictedUserPage }> {
      const data = await client.execute(restrictedUsersQuery, pageVariables(query), caller);
      return { viewer: data.viewer, page: data.restrictedUsers };
    },
    details,
    /** One restriction by its API id, whatever its state now, as notices show it. */
    async restriction(id: string): Promise<NoticeUser | null> {
      const { node } = await client.execute(restrictionQuery, { id }, caller);
      if (!node) return null;
      const { history: _history, ...user } = toRestrictedUser(node);
      return user;
    },
    unblock,
    async policies(): Promise<{ viewer: Viewer; policies: OutboundSpamPolicy[] }> {
      const data = await client.execute(outboundSpamPoliciesQuery, {}, caller);
      return { viewer: data.viewer, policies: data.outboundSpamPolicies };
    },
  };
}

export type AdminApi = ReturnType<typeof createAdminApi>;
