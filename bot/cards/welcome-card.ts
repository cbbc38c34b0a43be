import type { AdaptiveCard, CardAction, CardElement } from './adaptive-card.ts';
import { actionSet, adaptiveCard, execute, header, sectionTitle, text } from './card-elements.ts';
import type { ConversationScope } from './types.ts';
import { verbs } from './verbs.ts';

export interface WelcomeCardInput {
  scope: ConversationScope;
  /** The person who installed the app, when Teams says. */
  displayName: string | null;
}

/** The buttons that start the common tasks, short enough for three to fit side by side. */
export function startActions(): CardAction[] {
  return [execute(verbs.restrictedList, 'Restricted users', {}), execute(verbs.policiesList, 'Policies', {})];
}

/** Subscribing to restriction notices in this conversation. */
export function noticesSection(scope: ConversationScope, withUnsubscribe: boolean): CardElement[] {
  const where = scope === 'personal' ? 'this chat' : scope === 'team' ? 'this channel' : 'this group chat';
  const actions: CardAction[] = [execute(verbs.noticesSubscribe, 'Subscribe', {})];
  if (withUnsubscribe) actions.push(execute(verbs.noticesUnsubscribe, 'Unsubscribe', {}));
  return [sectionTitle('Restriction notices'), text(`Get a notice in ${where} whenever a user is restricted from sending email.`, { spacing: 'small' }), actionSet(actions, 'small')];
}

/** Posted when the app is installed in a personal chat, a group chat or a team. */
export function welcomeCard(input: WelcomeCardInput): AdaptiveCard {
  const greeting = input.displayName ? `Hi ${input.displayName}, I'm Sendguard` : "Hi, I'm Sendguard";
  const ask = input.scope === 'personal' ? 'Type **help** to see what you can ask me.' : 'Mention me with **help** to see what you can ask me.';
  return adaptiveCard({
    fallbackText: `${greeting}. I show users restricted from sending email and help you unblock them.`,
    body: [
      ...header('Sendguard', [greeting]),
      text(
        'When a user exceeds an outbound sending limit or looks compromised, they are restricted from sending email but can still receive it. ' +
          'I show you who is restricted and why, and walk you through unblocking them safely.',
        { spacing: 'medium' },
      ),
      text(
        'Before you unblock anyone, I ask you to regain control of the account: enable multi-factor authentication and reset the password. ' +
          'A release takes effect within a second.',
        { spacing: 'small' },
      ),
      ...noticesSection(input.scope, false),
      text(ask, { isSubtle: true, spacing: 'large' }),
    ],
    actions: [...startActions(), execute(verbs.helpShow, 'Help', {})],
  });
}
