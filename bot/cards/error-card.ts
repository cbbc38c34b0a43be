import type { AdaptiveCard, CardAction, CardElement, TextRun } from './adaptive-card.ts';
import { adaptiveCard, callout, execute, facts, header, runs, text } from './card-elements.ts';
import { describeLimit, formatRelative, formatUtc, reasonCodeLabels } from './format.ts';
import { releasedState } from './restriction-details-card.ts';
import type { RestrictedUser, UnblockFailure } from './types.ts';
import { quotaUsedUpLines, stillCompromised } from './unblock-quota.ts';
import { verbs } from './verbs.ts';

export interface ErrorCardInput {
  failure: UnblockFailure;
  now: Date;
}

type Failure<K extends UnblockFailure['kind']> = Extract<UnblockFailure, { kind: K }>;

interface Parts {
  title: (string | TextRun)[];
  body: CardElement[];
  actions: CardAction[];
}

const showDetails = (senderAddress: string) => execute(verbs.restrictedShow, 'Show details', { senderAddress });
const backToList = () => execute(verbs.restrictedList, 'Back to restricted users', {}, { associatedInputs: 'none' });

function quotaExceeded(f: Failure<'UNBLOCK_QUOTA_EXCEEDED'>, now: Date): Parts {
  return {
    title: [f.senderAddress, " can't be unblocked yet"],
    body: [callout('attention', quotaUsedUpLines(f, now)), text(stillCompromised, { spacing: 'medium' })],
    actions: [showDetails(f.senderAddress)],
  };
}

function secondApproval(f: Failure<'SECOND_APPROVAL_REQUIRED'>): Parts {
  return {
    title: [f.senderAddress, " needs a second admin's approval"],
    body: [
      callout('warning', [runs([`Release requested by ${f.requestedBy} at ${formatUtc(f.requestedAt)}.`])]),
      text('Your organization requires a second admin to approve another release of this sender. Ask another admin who can unblock users to approve it.', { spacing: 'medium' }),
    ],
    actions: [showDetails(f.senderAddress)],
  };
}

/** The card's restriction was released and the sender restricted again: nothing was released, the new one is for review. */
function restrictedAgain(senderAddress: string, current: RestrictedUser, now: Date): Parts {
  return {
    title: [senderAddress, ' was restricted again since this card was sent'],
    body: [
      callout('warning', [
        text('Nothing was released. The restriction this card was for has ended; this is the new one.', { weight: 'bolder' }),
        facts([
          ['Reason', reasonCodeLabels[current.reasonCode]],
          ['Limit exceeded', describeLimit(current.exceededLimit, current.limitValue)],
          ['Restricted', `${formatUtc(current.restrictedAt)} (${formatRelative(current.restrictedAt, now)})`],
        ]),
      ]),
      text('Review the new restriction before you unblock the sender.', { spacing: 'medium' }),
    ],
    actions: [execute(verbs.restrictedShow, 'Review the new restriction', { senderAddress }, { style: 'positive' })],
  };
}

function notRestricted(f: Failure<'NOT_RESTRICTED'>, now: Date): Parts {
  const current = f.current;
  if (!current) return { title: [f.senderAddress, ' is not restricted'], body: [text('This address has never been restricted from sending email.')], actions: [backToList()] };
  if (current.status === 'RESTRICTED') return restrictedAgain(f.senderAddress, current, now);
  return { title: [f.senderAddress, ' is not restricted'], body: [callout('good', releasedState(current))], actions: [showDetails(f.senderAddress)] };
}

function forbidden(f: Failure<'FORBIDDEN'>): Parts {
  return {
    title: [`You can't ${f.attempted}`],
    body: [
      text(
        'Your role lets you view restricted users but not change anything. Unblocking users and turning restriction notices on or off need the Global Administrator, Security Administrator or Organization Management role.',
      ),
    ],
    actions: [backToList()],
  };
}

const fieldLabels: Record<string, string> = { reason: 'Reason', acknowledgedRecommendations: 'Recommendations', senderAddress: 'Address', restrictionId: 'Restriction', search: 'Search' };

function validation(f: Failure<'VALIDATION'>): Parts {
  return {
    title: ['Check what you entered'],
    body: [callout('attention', [runs([`${fieldLabels[f.field] ?? f.field}: ${f.message}`])]), text('Nothing was changed.', { spacing: 'medium' })],
    actions: f.retry ? [execute(verbs.unblockRecommendations, 'Try again', f.retry)] : [backToList()],
  };
}

function partsFor(failure: UnblockFailure, now: Date): Parts {
  switch (failure.kind) {
    case 'UNBLOCK_QUOTA_EXCEEDED':
      return quotaExceeded(failure, now);
    case 'SECOND_APPROVAL_REQUIRED':
      return secondApproval(failure);
    case 'NOT_RESTRICTED':
      return notRestricted(failure, now);
    case 'FORBIDDEN':
      return forbidden(failure);
    case 'VALIDATION':
      return validation(failure);
  }
}

/** A typed API failure as a clear card; none of them changed anything. */
export function errorCard(input: ErrorCardInput): AdaptiveCard {
  const parts = partsFor(input.failure, input.now);
  const title = parts.title.map((p) => (typeof p === 'string' ? p : p.text)).join('');
  return adaptiveCard({
    fallbackText: title,
    body: [...header('Sendguard', parts.title), ...parts.body],
    actions: parts.actions,
  });
}
