import type { CardElement } from './adaptive-card.ts';
import { callout, text } from './card-elements.ts';
import { formatRelative, formatUtc, plural } from './format.ts';
import type { UnblockQuota } from './types.ts';

/**
 * How the wizard's cards speak of the unblock quota: in the same words as the API's refusal, so
 * the admin learns before Submit what Yes would be told.
 */

export interface QuotaUsedUp {
  releaseCount: number;
  maxReleases: number;
  windowDays: number;
  /** When the next release is possible. */
  resetsAt: string | null;
}

/** Whether the next release is past the quota (refused, or waiting for a second admin). */
export function quotaReached(quota: UnblockQuota | null): boolean {
  return quota !== null && quota.releasesInWindow >= quota.maxReleases;
}

/** The quota when it refuses the next release (reached, no second approval): then no card offers the release. */
export function refusingQuota(quota: UnblockQuota | null): UnblockQuota | null {
  return quota && quotaReached(quota) && !quota.secondApprovalPastQuota ? quota : null;
}

/** The count against the quota and when the next release is possible. */
export function quotaUsedUpLines(q: QuotaUsedUp, now: Date): CardElement[] {
  const count = text(`Released ${plural(q.releaseCount, 'time')} in the last ${q.windowDays} days; at most ${plural(q.maxReleases, 'release')} are allowed.`, { weight: 'bolder' });
  if (!q.resetsAt) return [count];
  return [count, text(`The next release is possible at ${formatUtc(q.resetsAt)} (${formatRelative(q.resetsAt, now)}).`, { spacing: 'small' })];
}

export const stillCompromised = 'A sender restricted this often is likely still compromised. Review recent sign-ins, inbox rules and forwarding before the next release.';

/** The quota is reached and the release would be refused: the count, when it resets, and why that matters. */
export function quotaRefusal(quota: UnblockQuota, now: Date): CardElement[] {
  const usedUp = { releaseCount: quota.releasesInWindow, maxReleases: quota.maxReleases, windowDays: quota.windowDays, resetsAt: quota.resetsAt };
  return [callout('attention', quotaUsedUpLines(usedUp, now)), text(stillCompromised, { spacing: 'medium' })];
}

/** The quota is reached and the tenant lets a second admin release past it. */
export function secondApprovalNotice(quota: UnblockQuota): CardElement {
  return callout('warning', [
    text(`Released ${plural(quota.releasesInWindow, 'time')} in the last ${quota.windowDays} days; at most ${plural(quota.maxReleases, 'release')} are allowed without approval.`, { weight: 'bolder' }),
    text("This release needs a second admin's approval: the first admin's Yes asks for it, and the sender is released when another admin who can unblock users says Yes too.", { spacing: 'small' }),
  ]);
}
