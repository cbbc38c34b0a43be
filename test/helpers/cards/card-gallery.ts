import type { AdaptiveCard } from '../../../bot/cards/adaptive-card.ts';
import { confirmUnblockCard } from '../../../bot/cards/confirm-unblock-card.ts';
import { errorCard } from '../../../bot/cards/error-card.ts';
import { helpCard } from '../../../bot/cards/help-card.ts';
import { policiesCard } from '../../../bot/cards/policies-card.ts';
import { recommendationsCard } from '../../../bot/cards/recommendations-card.ts';
import { refusalCard } from '../../../bot/cards/refusal-card.ts';
import { restrictedListCard } from '../../../bot/cards/restricted-list-card.ts';
import { restrictionDetailsCard } from '../../../bot/cards/restriction-details-card.ts';
import { restrictionNoticeCard } from '../../../bot/cards/restriction-notice-card.ts';
import { unblockResultCard } from '../../../bot/cards/unblock-result-card.ts';
import { welcomeCard } from '../../../bot/cards/welcome-card.ts';
import {
  alice,
  compromisedSender,
  expiredAlice,
  manager,
  now,
  policies,
  reader,
  recommendations,
  releasedAlice,
  restrictedPage,
  serviceLimits,
} from './card-fixtures.ts';

export const refreshUserIds = ['29:1a2b3c4d-megan', '29:5e6f7a8b-adele'];
const userIds = refreshUserIds;
/** After alice's temporary block ended. */
const nextMorning = new Date('2026-11-27T08:00:00Z');
const quota = { releasesInWindow: 1, maxReleases: 3, windowDays: 30, resetsAt: '2026-12-14T15:20:03Z', secondApprovalPastQuota: false };
/** Alice released three times in the window: the quota is reached. */
const quotaReached = { ...quota, releasesInWindow: 3, resetsAt: '2026-12-04T09:12:40Z' };

/** The unblock wizard, step by step, for a manager. */
export function wizardCards(): Record<string, AdaptiveCard> {
  return {
    'restricted-list': restrictedListCard({ page: restrictedPage(), query: { after: 'Y3Vyc29yOjk=' }, viewer: manager, now, refreshUserIds: userIds }),
    'restriction-details': restrictionDetailsCard({ user: alice(), viewer: manager, now, refreshUserIds: userIds }),
    'restriction-details-read-only': restrictionDetailsCard({ user: alice(), viewer: reader, now }),
    recommendations: recommendationsCard({ user: alice(), recommendations, unblockQuota: quota, now, refreshUserIds: userIds }),
    'confirm-unblock': confirmUnblockCard({
      user: alice(),
      acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS'],
      reason: 'Phishing confirmed; password reset and MFA enabled.',
      unblockQuota: quota,
      now,
    }),
    'unblock-result': unblockResultCard({ user: releasedAlice() }),
  };
}

/** Every card the bot can send, with realistic data, by a descriptive name. */
export function allCards(): Record<string, AdaptiveCard> {
  return {
    ...wizardCards(),
    'welcome-personal': welcomeCard({ scope: 'personal', displayName: 'Megan Bowen' }),
    'welcome-team': welcomeCard({ scope: 'team', displayName: null }),
    'help-personal': helpCard({ scope: 'personal', botName: 'Sendguard' }),
    'help-team': helpCard({ scope: 'team', botName: 'Sendguard' }),
    'restricted-list-empty': restrictedListCard({
      page: { nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: 0 },
      query: { search: 'fabrikam' },
      viewer: reader,
      now,
    }),
    'restriction-details-compromised': restrictionDetailsCard({ user: compromisedSender(), viewer: manager, now }),
    'restriction-details-released': restrictionDetailsCard({ user: releasedAlice(), viewer: manager, now }),
    'restriction-details-expired': restrictionDetailsCard({ user: expiredAlice(), viewer: manager, now: nextMorning }),
    'recommendations-stale': recommendationsCard({ user: releasedAlice(), recommendations, unblockQuota: null, now }),
    'confirm-unblock-stale': confirmUnblockCard({ user: expiredAlice(), acknowledgedRecommendations: [], reason: '', unblockQuota: null, now }),
    'recommendations-quota-reached': recommendationsCard({ user: alice(), recommendations, unblockQuota: quotaReached, now }),
    'confirm-unblock-quota-reached': confirmUnblockCard({ user: alice(), acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'], reason: '', unblockQuota: quotaReached, now }),
    'recommendations-second-approval': recommendationsCard({ user: alice(), recommendations, unblockQuota: { ...quotaReached, secondApprovalPastQuota: true }, now }),
    'confirm-unblock-second-approval': confirmUnblockCard({
      user: alice(),
      acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'],
      reason: 'Phishing confirmed; password reset and MFA enabled.',
      unblockQuota: { ...quotaReached, secondApprovalPastQuota: true },
      now,
    }),
    'error-quota': errorCard({
      failure: { kind: 'UNBLOCK_QUOTA_EXCEEDED', senderAddress: 'alice@contoso.com', releaseCount: 3, maxReleases: 3, windowDays: 30, resetsAt: '2026-12-04T09:12:40Z' },
      now,
    }),
    'error-second-approval': errorCard({
      failure: { kind: 'SECOND_APPROVAL_REQUIRED', senderAddress: 'alice@contoso.com', requestedBy: 'Megan Bowen', requestedAt: '2026-11-26T14:04:00Z' },
      now,
    }),
    'error-not-restricted': errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'alice@contoso.com', current: releasedAlice() }, now }),
    'error-restricted-again': errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'alice@contoso.com', current: alice() }, now }),
    'error-never-restricted': errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'nobody@contoso.com', current: null }, now }),
    'error-forbidden': errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'unblock users' }, now }),
    'error-validation': errorCard({
      failure: {
        kind: 'VALIDATION',
        field: 'acknowledgedRecommendations',
        message: 'confirm ENABLE_MFA and RESET_PASSWORD before you unblock',
        retry: { senderAddress: 'alice@contoso.com', restrictionId: alice().id },
      },
      now,
    }),
    'notice-restricted': restrictionNoticeCard({ user: alice(), now, refreshUserIds: userIds }),
    'notice-released': restrictionNoticeCard({ user: releasedAlice(), now }),
    policies: policiesCard({ policies: policies(), serviceLimits, now }),
    'refusal-not-teams': refusalCard({ reason: 'NOT_TEAMS' }),
    'refusal-unknown-tenant': refusalCard({ reason: 'UNKNOWN_TENANT' }),
    'refusal-no-role': refusalCard({ reason: 'NO_ROLE' }),
  };
}
