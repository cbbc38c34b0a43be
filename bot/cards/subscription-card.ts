import type { AdaptiveCard } from './adaptive-card.ts';
import { adaptiveCard, callout, execute, header, runs, text } from './card-elements.ts';
import type { ConversationScope } from './types.ts';
import { verbs } from './verbs.ts';

export interface SubscriptionCardInput {
  scope: ConversationScope;
  subscribed: boolean;
  /** Whether this answer changed anything (false: it was already so). */
  changed: boolean;
  /** Who asked, by display name. */
  by: string;
}

function where(scope: ConversationScope): string {
  return scope === 'personal' ? 'this chat' : scope === 'team' ? 'this channel' : 'this group chat';
}

/** The answer to subscribe / unsubscribe: whether restriction notices are posted here now. */
export function subscriptionCard(input: SubscriptionCardInput): AdaptiveCard {
  const place = where(input.scope);
  const title = input.subscribed ? `Restriction notices are on in ${place}` : `Restriction notices are off in ${place}`;
  const state = input.subscribed
    ? `Whenever a user is restricted from sending email, I post a notice here with a Review and unblock button. When the user is released, the notice says so.`
    : `I no longer post a notice here when a user is restricted. Notices already posted stay and still show the current state.`;
  const who = input.changed ? `Turned ${input.subscribed ? 'on' : 'off'} by ${input.by}.` : `They already were ${input.subscribed ? 'on' : 'off'}; nothing changed.`;
  return adaptiveCard({
    fallbackText: title,
    body: [...header('Restriction notices', [title]), callout(input.subscribed ? 'good' : 'default', [text(state)]), runs([who], { spacing: 'medium', all: { isSubtle: true, size: 'small' } })],
    actions: [
      input.subscribed ? execute(verbs.noticesUnsubscribe, 'Unsubscribe', {}) : execute(verbs.noticesSubscribe, 'Subscribe', {}),
      execute(verbs.restrictedList, 'Restricted users', {}, { associatedInputs: 'none' }),
    ],
  });
}
