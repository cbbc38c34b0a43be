import type { AdaptiveCard } from './adaptive-card.ts';
import { botCommands } from './bot-commands.ts';
import { adaptiveCard, column, columns, header, run, runs, subtle, text } from './card-elements.ts';
import type { ConversationScope } from './types.ts';
import { noticesSection, startActions } from './welcome-card.ts';

export interface HelpCardInput {
  scope: ConversationScope;
  /** The bot's name as people mention it in channels. */
  botName: string;
}

function commandRows() {
  return botCommands.map((c, i) =>
    columns(
      [
        column([runs([run(c.usage, { weight: 'bolder' })])], { width: '160px' }),
        column([text(c.description, { spacing: 'none' })], { width: 'stretch' }),
      ],
      { spacing: i === 0 ? 'medium' : 'small' },
    ),
  );
}

/** The commands, with the buttons that start the common tasks. */
export function helpCard(input: HelpCardInput): AdaptiveCard {
  const mention =
    input.scope === 'personal'
      ? 'Type a command in this chat.'
      : `In a channel or group chat, mention me first, for example: @${input.botName} restricted contoso.com`;
  return adaptiveCard({
    fallbackText: `Sendguard commands: ${botCommands.map((c) => c.usage).join(', ')}`,
    body: [...header('Sendguard help', ['What you can ask me']), subtle(mention), ...commandRows(), ...noticesSection(input.scope, true)],
    actions: startActions(),
  });
}
