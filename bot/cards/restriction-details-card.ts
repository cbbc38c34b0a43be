import type { AdaptiveCard, CardAction, CardElement } from './adaptive-card.ts';
import { adaptiveCard, callout, container, execute, facts, header, run, runs, sectionTitle, subtle, text } from './card-elements.ts';
import { describeLimit, formatCount, formatRelative, formatUtc, plural, reasonCodeLabels, statusLabels, truncate } from './format.ts';
import type { EarlierRestriction, Release, RestrictedUser, Viewer } from './types.ts';
import { verbs } from './verbs.ts';

export interface RestrictionDetailsCardInput {
  user: RestrictedUser;
  viewer: Viewer;
  now: Date;
  refreshUserIds?: readonly string[];
}

/** Earlier restrictions shown; older ones are counted, not listed, to keep the card small. */
export const maxHistoryShown = 5;

export function latestRelease(releases: readonly Release[]): Release | null {
  return releases.reduce<Release | null>((latest, r) => (!latest || r.releasedAt > latest.releasedAt ? r : latest), null);
}

function blockFact(user: RestrictedUser, now: Date): string {
  if (!user.temporary) return 'Until an admin releases it';
  if (!user.expiresAt) return 'Temporary';
  const when = `${formatUtc(user.expiresAt)} (${formatRelative(user.expiresAt, now)})`;
  return user.status === 'RESTRICTED' ? `Temporary, lifts at ${when}` : `Temporary, set to lift at ${formatUtc(user.expiresAt)}`;
}

/** The current state, for a user who is no longer restricted (the card may be stale). */
export function releasedState(user: Pick<RestrictedUser, 'status' | 'changedAt' | 'releases'>): CardElement[] {
  if (user.status === 'EXPIRED') {
    return [text('The temporary block ended', { weight: 'bolder' }), text(`Lifted at ${formatUtc(user.changedAt)}. This user can send email again.`, { spacing: 'small' })];
  }
  const release = latestRelease(user.releases);
  const lines: CardElement[] = [text('Released: this user can send email again', { weight: 'bolder' })];
  if (release) {
    lines.push(runs([`Released by ${release.releasedBy} at ${formatUtc(release.releasedAt)}`], { spacing: 'small' }));
    if (release.reason) lines.push(runs([run('Reason: '), run(truncate(release.reason, 300), { italic: true })], { spacing: 'small' }));
  }
  return lines;
}

/** What a wizard step shows instead of its inputs when the user was released elsewhere meanwhile. */
export function noLongerRestrictedCard(user: Pick<RestrictedUser, 'senderAddress' | 'status' | 'changedAt' | 'releases'>): AdaptiveCard {
  return adaptiveCard({
    fallbackText: `${user.senderAddress} is no longer restricted.`,
    body: [...header('Unblock user', [user.senderAddress]), callout('good', releasedState(user))],
    actions: [execute(verbs.restrictedShow, 'Show details', { senderAddress: user.senderAddress })],
  });
}

function stateSection(user: RestrictedUser, now: Date): CardElement[] {
  if (user.status !== 'RESTRICTED') return [callout('good', releasedState(user))];
  return [
    runs([run('Restricted from sending email', { color: 'attention', weight: 'bolder' }), run(` since ${formatUtc(user.restrictedAt)} (${formatRelative(user.restrictedAt, now)})`)], {
      spacing: 'small',
    }),
    subtle('The user can still receive email; every message they send is returned with 550 5.1.8 Access denied, bad outbound sender.'),
  ];
}

function detailFacts(user: RestrictedUser, now: Date): CardElement {
  return facts([
    ['Status', statusLabels[user.status]],
    ['Reason', reasonCodeLabels[user.reasonCode]],
    ['Limit exceeded', describeLimit(user.exceededLimit, user.limitValue)],
    ['Internal recipients', formatCount(user.internalRecipientCount)],
    ['External recipients', formatCount(user.externalRecipientCount)],
    ['Policy', user.policyName],
    ['Restricted', formatUtc(user.restrictedAt)],
    ['Last changed', formatUtc(user.changedAt)],
    ['Block', blockFact(user, now)],
  ]);
}

function historyEntry(earlier: EarlierRestriction): CardElement {
  const release = latestRelease(earlier.releases);
  const ended =
    earlier.status === 'EXPIRED'
      ? `Expired at ${formatUtc(earlier.changedAt)}`
      : release
        ? `Released by ${release.releasedBy} at ${formatUtc(release.releasedAt)}${release.reason ? `: ${truncate(release.reason, 160)}` : ''}`
        : statusLabels[earlier.status];
  return container(
    [runs([run(`${formatUtc(earlier.restrictedAt)} · ${reasonCodeLabels[earlier.reasonCode]}`, { weight: 'bolder' })]), runs([run(ended, { isSubtle: true })], { spacing: 'none' })],
    { spacing: 'small' },
  );
}

function historySection(user: RestrictedUser): CardElement[] {
  const history = user.history.filter((h) => h.id !== user.id);
  if (history.length === 0) return [sectionTitle('Earlier restrictions'), subtle('None: this is the first time this user was restricted.')];
  const shown = history.slice(0, maxHistoryShown).map(historyEntry);
  const more = history.length - shown.length;
  return [sectionTitle(`Earlier restrictions (${history.length})`), ...shown, ...(more > 0 ? [subtle(`and ${plural(more, 'earlier restriction')}`)] : [])];
}

function detailActions(user: RestrictedUser, viewer: Viewer): CardAction[] {
  const actions: CardAction[] = [];
  if (viewer.canManage && user.status === 'RESTRICTED') {
    actions.push(execute(verbs.unblockRecommendations, 'Unblock', { senderAddress: user.senderAddress, restrictionId: user.id }, { style: 'positive' }));
  }
  actions.push(execute(verbs.restrictedList, 'Back to restricted users', {}, { associatedInputs: 'none' }));
  return actions;
}

const compromiseWarning =
  'A sender exceeding the outbound email limits is an indicator of a compromised account. Before you unblock, follow the recommendations to regain control of the account.';

/** Who, why, when, the counts and the policy, with earlier restrictions and releases. */
export function restrictionDetailsCard(input: RestrictionDetailsCardInput): AdaptiveCard {
  const { user, viewer, now } = input;
  const restricted = user.status === 'RESTRICTED';
  const body: CardElement[] = [
    ...header('Restricted users', [user.senderAddress]),
    ...stateSection(user, now),
    runs([run(truncate(user.reason, 400))], { spacing: 'medium' }),
    detailFacts(user, now),
  ];
  if (restricted && viewer.canManage) body.push(callout('warning', [text(compromiseWarning, { size: 'small' })]));
  if (restricted && !viewer.canManage) body.push(subtle('You have read-only access: an admin with the Security Administrator or Organization Management role can unblock this user.', { spacing: 'medium' }));
  body.push(...historySection(user));
  return adaptiveCard({
    fallbackText: `${user.senderAddress}: ${statusLabels[user.status]}. ${user.reason}`,
    body,
    actions: detailActions(user, viewer),
    refresh: { view: 'restriction.details', senderAddress: user.senderAddress },
    refreshUserIds: input.refreshUserIds,
  });
}
