/**
 * What the cards show, as plain data. These mirror the GraphQL API's types (the bot reads only
 * through it) so the runtime maps query results onto them field by field. Times are ISO-8601 UTC.
 */

export const reasonCodes = ['SendingLimitExceeded', 'ServiceRecipientLimit', 'SuspectedCompromise', 'ManualBlock'] as const;
export type ReasonCode = (typeof reasonCodes)[number];

export const restrictionStatuses = ['RESTRICTED', 'RELEASED', 'EXPIRED'] as const;
export type RestrictionStatus = (typeof restrictionStatuses)[number];

/** The GraphQL `RecommendationKind` enum. */
export const recommendationKinds = ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS', 'REMOVE_FORWARDING_AND_INBOX_RULES', 'REVIEW_SIGN_INS'] as const;
export type RecommendationKind = (typeof recommendationKinds)[number];

export interface Recommendation {
  kind: RecommendationKind;
  title: string;
  description: string;
  /** Required steps must be acknowledged before the API releases the sender. */
  required: boolean;
  learnMoreUrl: string;
}

export interface Release {
  releasedAt: string;
  /** Display name of the admin who released it. */
  releasedBy: string;
  reason: string;
  acknowledgedRecommendations: RecommendationKind[];
}

export interface RestrictedUser {
  id: string;
  senderAddress: string;
  /** Why, in plain words ("Sent to more external recipients in an hour than the policy allows"). */
  reason: string;
  reasonCode: ReasonCode;
  /** The limit that was crossed, by its Exchange name (`RecipientLimitExternalPerHour`), or null. */
  exceededLimit: string | null;
  limitValue: number | null;
  internalRecipientCount: number;
  externalRecipientCount: number;
  policyName: string | null;
  restrictedAt: string;
  changedAt: string;
  expiresAt: string | null;
  temporary: boolean;
  status: RestrictionStatus;
  /** The releases of this restriction (none while it is active). Not the sender's other releases. */
  releases: Release[];
  /** The sender's earlier restrictions, newest first; an entry with this restriction's own id is left out. */
  history: EarlierRestriction[];
}

export type EarlierRestriction = Pick<
  RestrictedUser,
  'id' | 'reason' | 'reasonCode' | 'restrictedAt' | 'changedAt' | 'expiresAt' | 'temporary' | 'status' | 'releases'
>;

/** One row of the restricted users list: what the list query fetches. */
export type ListedRestrictedUser = Pick<
  RestrictedUser,
  'id' | 'senderAddress' | 'reason' | 'reasonCode' | 'restrictedAt' | 'expiresAt' | 'temporary' | 'status'
>;

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface RestrictedUserPage {
  nodes: ListedRestrictedUser[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** The arguments the page was fetched with, so paging and refresh can repeat them. */
export interface RestrictedListQuery {
  search?: string;
  after?: string;
  before?: string;
}

export interface Viewer {
  displayName: string;
  /** True for roles that grant manage (unblock); false for read-only roles. */
  canManage: boolean;
}

export interface UnblockQuota {
  /** Releases of this sender inside the window, before this one. */
  releasesInWindow: number;
  maxReleases: number;
  windowDays: number;
  /** Once the quota is used up, when the next release is possible; null when no release is counted. */
  resetsAt: string | null;
  /** The tenant's `requireSecondApproval`: past the quota a second admin's approval releases instead of a refusal. */
  secondApprovalPastQuota: boolean;
}

export type ThresholdAction = 'BlockUserForToday' | 'BlockUser' | 'Alert';

export interface PolicyConditions {
  from: string[];
  fromMemberOf: string[];
  senderDomainIs: string[];
  exceptIfFrom: string[];
  exceptIfFromMemberOf: string[];
  exceptIfSenderDomainIs: string[];
}

export interface OutboundSpamPolicy {
  name: string;
  isDefault: boolean;
  enabled: boolean;
  /** Rule priority (0 is the highest); null for the default policy. */
  priority: number | null;
  /** 0 means the service default. */
  recipientLimitExternalPerHour: number;
  recipientLimitInternalPerHour: number;
  recipientLimitPerDay: number;
  actionWhenThresholdReached: ThresholdAction;
  notify: string[];
  conditions: PolicyConditions | null;
}

/** The limits that apply when a policy says 0. */
export interface ServiceLimits {
  recipientLimitExternalPerHour: number;
  recipientLimitInternalPerHour: number;
  recipientLimitPerDay: number;
}

/** Expected failures the API reports, as the cards show them. */
export type UnblockFailure =
  | { kind: 'UNBLOCK_QUOTA_EXCEEDED'; senderAddress: string; releaseCount: number; maxReleases: number; windowDays: number; resetsAt: string }
  | { kind: 'SECOND_APPROVAL_REQUIRED'; senderAddress: string; requestedBy: string; requestedAt: string }
  | { kind: 'NOT_RESTRICTED'; senderAddress: string; current: RestrictedUser | null }
  | { kind: 'FORBIDDEN'; attempted: string }
  | { kind: 'VALIDATION'; field: string; message: string; retry: { senderAddress: string; restrictionId: string } | null };

export type RefusalReason = 'NOT_TEAMS' | 'UNKNOWN_TENANT' | 'NO_ROLE';

export type ConversationScope = 'personal' | 'team' | 'groupChat';
