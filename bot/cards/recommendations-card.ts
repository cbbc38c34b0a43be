import type { AdaptiveCard, CardElement, ToggleInput } from './adaptive-card.ts';
import { adaptiveCard, column, columns, container, execute, header, run, sectionTitle, subtle, text } from './card-elements.ts';
import { acknowledgementLabels, plural } from './format.ts';
import { noLongerRestrictedCard } from './restriction-details-card.ts';
import type { Recommendation, RestrictedUser, UnblockQuota } from './types.ts';
import { quotaReached, quotaRefusal, refusingQuota, secondApprovalNotice } from './unblock-quota.ts';
import { acknowledgementInputId, inputIds, verbs } from './verbs.ts';

export interface RecommendationsCardInput {
  user: Pick<RestrictedUser, 'id' | 'senderAddress' | 'status' | 'changedAt' | 'releases'>;
  /** From the API (`RestrictedUser.recommendations`), in the order to show them. */
  recommendations: readonly Recommendation[];
  /** The sender's releases so far, when a quota applies. */
  unblockQuota: UnblockQuota | null;
  now: Date;
  refreshUserIds?: readonly string[];
}

function markdownUrl(url: string): string {
  return url.replace(/[()\s]/g, (c) => encodeURIComponent(c));
}

function toggle(rec: Recommendation): ToggleInput {
  const input: ToggleInput = {
    type: 'Input.Toggle',
    id: acknowledgementInputId(rec.kind),
    label: rec.title,
    title: acknowledgementLabels[rec.kind],
    value: 'false',
    valueOn: 'true',
    valueOff: 'false',
    wrap: true,
  };
  if (!rec.required) return input;
  return { ...input, isRequired: true, errorMessage: `Required: confirm "${acknowledgementLabels[rec.kind]}" before you unblock.` };
}

/** The toggle, then why and a link, indented under the toggle's text. */
function step(rec: Recommendation): CardElement {
  const why = subtle(`${rec.description} [Learn more](${markdownUrl(rec.learnMoreUrl)})`, { spacing: 'none' });
  return container([toggle(rec), columns([column([], { width: '26px' }), column([why], { width: 'stretch', spacing: 'none' })], { spacing: 'none' })], { spacing: 'medium' });
}

function quotaLine(quota: UnblockQuota | null): CardElement[] {
  if (!quota) return [];
  if (quotaReached(quota)) return [secondApprovalNotice(quota)];
  const used = quota.releasesInWindow === 0
    ? `This sender has not been released in the last ${quota.windowDays} days`
    : `This sender was released ${plural(quota.releasesInWindow, 'time')} in the last ${quota.windowDays} days`;
  return [subtle(`${used}; at most ${plural(quota.maxReleases, 'release')} are allowed in that window.`, { spacing: 'medium' })];
}

/** Past the quota with no second approval: what to do before the next release, and nothing to submit. */
function quotaReachedCard(input: RecommendationsCardInput, quota: UnblockQuota): AdaptiveCard {
  const { user } = input;
  const steps = input.recommendations.map((r) => `- ${r.title} [Learn more](${markdownUrl(r.learnMoreUrl)})`).join('\n');
  return adaptiveCard({
    fallbackText: `${user.senderAddress} can't be unblocked yet.`,
    body: [
      ...header('Unblock user · Recommendations', [run(user.senderAddress, { color: 'accent' }), " can't be unblocked yet"]),
      ...quotaRefusal(quota, input.now),
      ...(steps ? [sectionTitle('Before the next release'), text(steps, { spacing: 'small' })] : []),
    ],
    actions: [execute(verbs.restrictedShow, 'Show details', { senderAddress: user.senderAddress })],
    // Refreshed, the card offers Submit again once the quota resets.
    refresh: { view: 'unblock.recommendations', senderAddress: user.senderAddress, restrictionId: user.id },
    refreshUserIds: input.refreshUserIds,
  });
}

/** The steps to regain control of the account; the required ones must be ticked before Submit. */
export function recommendationsCard(input: RecommendationsCardInput): AdaptiveCard {
  const { user } = input;
  if (user.status !== 'RESTRICTED') return noLongerRestrictedCard(user);
  const refusing = refusingQuota(input.unblockQuota);
  if (refusing) return quotaReachedCard(input, refusing);
  const required = input.recommendations.filter((r) => r.required);
  const optional = input.recommendations.filter((r) => !r.required);
  const target = { senderAddress: user.senderAddress, restrictionId: user.id };
  return adaptiveCard({
    fallbackText: `Before you unblock ${user.senderAddress}: ${required.map((r) => r.title).join(', ')}.`,
    body: [
      ...header('Unblock user · Recommendations', ['Before you unblock ', run(user.senderAddress, { color: 'accent' })]),
      text('Regain control of the account first. Enabling multi-factor authentication (MFA) and resetting the password are a good defense.', { spacing: 'small' }),
      ...(required.length ? [sectionTitle('Required'), ...required.map(step)] : []),
      ...(optional.length ? [sectionTitle('Also recommended'), ...optional.map(step)] : []),
      {
        type: 'Input.Text',
        id: inputIds.reason,
        label: 'Reason for unblocking (kept in the audit log)',
        placeholder: 'For example: phishing confirmed, password reset and MFA enabled',
        isMultiline: true,
        maxLength: 1000,
        spacing: 'large',
      },
      ...quotaLine(input.unblockQuota),
    ],
    actions: [
      execute(verbs.unblockSubmit, 'Submit', target, { style: 'positive', associatedInputs: 'auto' }),
      execute(verbs.unblockCancel, 'Cancel', { senderAddress: user.senderAddress }, { associatedInputs: 'none' }),
    ],
    refresh: { view: 'unblock.recommendations', ...target },
    refreshUserIds: input.refreshUserIds,
  });
}
