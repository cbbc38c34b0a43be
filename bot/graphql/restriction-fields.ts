import { z } from 'zod';
import { recommendationKinds, type EarlierRestriction, type ReasonCode, type Release, type RestrictedUser, type UnblockQuota, type Viewer } from '../cards/types.ts';

/**
 * The API's restriction fields and how they become the cards' data: SCREAMING_CASE reason codes
 * become the cards' PascalCase ones, and each restriction gets only its own release (the API's
 * `releases` are all of the sender's).
 */

const reasonCodeOf = {
  SENDING_LIMIT_EXCEEDED: 'SendingLimitExceeded',
  SERVICE_RECIPIENT_LIMIT: 'ServiceRecipientLimit',
  SUSPECTED_COMPROMISE: 'SuspectedCompromise',
  MANUAL_BLOCK: 'ManualBlock',
} as const satisfies Record<string, ReasonCode>;

export const apiReasonCode = z.enum(Object.keys(reasonCodeOf) as [keyof typeof reasonCodeOf]).transform((code) => reasonCodeOf[code]);
export const apiStatus = z.enum(['RESTRICTED', 'RELEASED', 'EXPIRED']);
const timestamp = z.string().min(1);

export const viewerFields = 'viewer { name scopes }';
export const apiViewer = z.object({ name: z.string(), scopes: z.array(z.string()) }).transform((v): Viewer => ({ displayName: v.name, canManage: v.scopes.includes('MANAGE') }));

export const releaseFields = 'releasedAt releasedBy reason acknowledgedRecommendations';
export const apiRelease = z.object({
  releasedAt: timestamp,
  releasedBy: z.string(),
  reason: z.string(),
  acknowledgedRecommendations: z.array(z.enum(recommendationKinds)),
});

/** Fields every restriction (current or earlier) is read with. */
export const restrictionFields = 'id reason reasonCode restrictedAt changedAt expiresAt temporary status releasedAt releasedBy releaseReason';
const apiRestrictionBase = z.object({
  id: z.string(),
  reason: z.string(),
  reasonCode: apiReasonCode,
  restrictedAt: timestamp,
  changedAt: timestamp,
  expiresAt: timestamp.nullable(),
  temporary: z.boolean(),
  status: apiStatus,
  releasedAt: timestamp.nullable(),
  releasedBy: z.string().nullable(),
  releaseReason: z.string().nullable(),
});
export type ApiRestriction = z.infer<typeof apiRestrictionBase>;

export const userFields = `${restrictionFields} senderAddress exceededLimit limitValue internalRecipientCount externalRecipientCount policyName releases { ${releaseFields} }`;
export const apiUser = apiRestrictionBase.extend({
  senderAddress: z.string(),
  exceededLimit: z.string().nullable(),
  limitValue: z.number().int().nullable(),
  internalRecipientCount: z.number().int(),
  externalRecipientCount: z.number().int(),
  policyName: z.string().nullable(),
  releases: z.array(apiRelease),
});
export type ApiUser = z.infer<typeof apiUser>;

export const detailsFields = `${userFields} history { ${restrictionFields} } recommendations { kind title description required learnMoreUrl } unblockQuota { used limit windowDays resetsAt }`;
export const apiRecommendation = z.object({ kind: z.enum(recommendationKinds), title: z.string(), description: z.string(), required: z.boolean(), learnMoreUrl: z.string() });
export const apiUnblockQuota = z.object({ used: z.number().int(), limit: z.number().int().nullable(), windowDays: z.number().int(), resetsAt: timestamp.nullable() });

/** The sender's unblock quota as the cards show it, with the tenant's second-approval setting; null when the tenant has no quota. */
export function toUnblockQuota(quota: z.infer<typeof apiUnblockQuota>, requireSecondApproval: boolean): UnblockQuota | null {
  if (quota.limit === null) return null;
  return { releasesInWindow: quota.used, maxReleases: quota.limit, windowDays: quota.windowDays, resetsAt: quota.resetsAt, secondApprovalPastQuota: requireSecondApproval };
}
export const apiUserDetails = apiUser.extend({ history: z.array(apiRestrictionBase), recommendations: z.array(apiRecommendation), unblockQuota: apiUnblockQuota });

const sameInstant = (a: string, b: string) => new Date(a).getTime() === new Date(b).getTime();

/**
 * The release of this restriction among all of the sender's releases, matched by its time (the
 * API names no restriction on a release); without a match, what the restriction itself records.
 */
export function releasesOfRestriction(
  restriction: Pick<ApiRestriction, 'status' | 'releasedAt' | 'releasedBy' | 'releaseReason'>,
  senderReleases: readonly z.infer<typeof apiRelease>[],
): Release[] {
  if (restriction.status !== 'RELEASED' || !restriction.releasedAt) return [];
  const releasedAt = restriction.releasedAt;
  const matched = senderReleases.filter((r) => sameInstant(r.releasedAt, releasedAt));
  if (matched.length > 0) return matched.map((r) => ({ ...r }));
  return [{ releasedAt, releasedBy: restriction.releasedBy ?? 'an admin', reason: restriction.releaseReason ?? '', acknowledgedRecommendations: [] }];
}

function earlier(restriction: ApiRestriction, senderReleases: readonly z.infer<typeof apiRelease>[]): EarlierRestriction {
  const { id, reason, reasonCode, restrictedAt, changedAt, expiresAt, temporary, status } = restriction;
  return { id, reason, reasonCode, restrictedAt, changedAt, expiresAt, temporary, status, releases: releasesOfRestriction(restriction, senderReleases) };
}

/** A restriction as the cards show it; `history` is empty unless the API sent it. */
export function toRestrictedUser(user: ApiUser & { history?: ApiRestriction[] }): RestrictedUser {
  return {
    id: user.id,
    senderAddress: user.senderAddress,
    reason: user.reason,
    reasonCode: user.reasonCode,
    exceededLimit: user.exceededLimit,
    limitValue: user.limitValue,
    internalRecipientCount: user.internalRecipientCount,
    externalRecipientCount: user.externalRecipientCount,
    policyName: user.policyName,
    restrictedAt: user.restrictedAt,
    changedAt: user.changedAt,
    expiresAt: user.expiresAt,
    temporary: user.temporary,
    status: user.status,
    releases: releasesOfRestriction(user, user.releases),
    history: (user.history ?? []).filter((h) => h.id !== user.id).map((h) => earlier(h, user.releases)),
  };
}
