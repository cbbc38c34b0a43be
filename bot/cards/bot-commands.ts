/** The bot's text commands; the help card and the app manifest's command lists show the same ones. */
export interface BotCommand {
  name: string;
  usage: string;
  description: string;
}

export const botCommands: readonly BotCommand[] = [
  { name: 'help', usage: 'help', description: 'Show what Sendguard can do and how to ask for it.' },
  { name: 'restricted', usage: 'restricted [search]', description: 'List users restricted from sending email; add part of an address to search.' },
  { name: 'show', usage: 'show <address>', description: 'Show why a user is restricted, with earlier restrictions and releases.' },
  { name: 'unblock', usage: 'unblock <address>', description: 'Go through the recommendations and remove a user from the Restricted users list.' },
  { name: 'policies', usage: 'policies', description: 'Show the outbound spam policies with their limits and actions.' },
  { name: 'subscribe', usage: 'subscribe', description: 'Post a notice in this chat or channel whenever a user is restricted from sending email.' },
  { name: 'unsubscribe', usage: 'unsubscribe', description: 'Stop posting restriction notices in this chat or channel.' },
];
