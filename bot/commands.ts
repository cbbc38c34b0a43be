import { parseCardAction, type IncomingAction } from './cards/action-data.ts';
import { verbs, type Verb } from './cards/verbs.ts';

/** A typed command: a card action by another name, `unblock <address>`, or a typo. */
export type Command = { kind: 'action'; action: IncomingAction } | { kind: 'unblock'; senderAddress: string } | { kind: 'invalid'; field: string; message: string } | { kind: 'help' };

function action(verb: Verb, data: unknown): Command {
  const parsed = parseCardAction(verb, data);
  if (parsed.ok) return { kind: 'action', action: parsed.action };
  // parseCardAction says `<field>: <what is wrong>`.
  const [, field = 'senderAddress', message = parsed.message] = /^(\w+): ([\s\S]*)$/.exec(parsed.message) ?? [];
  return { kind: 'invalid', field, message };
}

/** `command`: the word typed, so the example repeats the command the admin used. */
function withAddress(command: 'show' | 'unblock', argument: string): Command {
  if (!argument) return { kind: 'invalid', field: 'senderAddress', message: `add the address, for example: ${command} alice@contoso.com` };
  return action(verbs.restrictedShow, { senderAddress: argument });
}

/**
 * Reads what the admin typed (mentions of the bot already removed). Anything that is not a
 * command gets help, so a typo never does something unexpected.
 */
export function parseCommand(text: string): Command {
  const [word = '', ...rest] = text.replace(/\u00a0/g, ' ').trim().split(/\s+/);
  const argument = rest.join(' ').trim();
  switch (word.toLowerCase()) {
    case 'restricted':
      return action(verbs.restrictedList, argument ? { search: argument } : {});
    case 'show':
      return withAddress('show', argument);
    case 'unblock': {
      const parsed = withAddress('unblock', argument);
      return parsed.kind === 'action' && parsed.action.verb === 'restricted.show' ? { kind: 'unblock', senderAddress: parsed.action.data.senderAddress } : parsed;
    }
    case 'policies':
      return action(verbs.policiesList, {});
    case 'subscribe':
      return action(verbs.noticesSubscribe, {});
    case 'unsubscribe':
      return action(verbs.noticesUnsubscribe, {});
    default:
      return { kind: 'help' };
  }
}
