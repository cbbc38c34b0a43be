import { ActivityTypes, TurnContext, type Activity } from 'botbuilder';
import { z } from 'zod';
import { serializeCard, type AdaptiveCard } from '../cards/adaptive-card.ts';
import type { ConversationScope } from '../cards/types.ts';
import { adaptiveCardContentType, type BotReply, type IncomingActivity, type InvokeAnswer } from '../incoming-activity.ts';
import type { SendguardBot } from '../sendguard-bot.ts';

const teamsChannelData = z
  .object({
    tenant: z.object({ id: z.string() }).partial().optional(),
    team: z.object({ id: z.string() }).partial().optional(),
    channel: z.object({ id: z.string() }).partial().optional(),
    eventType: z.string().optional(),
  })
  .partial()
  .catch({});

const scopes: Record<string, ConversationScope> = { personal: 'personal', groupChat: 'groupChat', channel: 'team' };

function scopeOf(activity: Activity): ConversationScope {
  const type = activity.conversation?.conversationType;
  const known = type ? scopes[type] : undefined;
  return known ?? (activity.conversation?.isGroup ? 'groupChat' : 'personal');
}

/** In a channel every message starts a reply thread; the bot keeps the channel itself, so notices start new threads. */
function conversationKey(activity: Activity, scope: ConversationScope, channelId: string | undefined): string {
  const id = activity.conversation?.id ?? '';
  if (scope !== 'team') return id;
  return channelId ?? id.split(';messageid=')[0] ?? id;
}

function referenceOf(activity: Activity, conversationId: string): Record<string, unknown> {
  const { activityId: _reply, ...reference } = TurnContext.getConversationReference(activity);
  const plain = JSON.parse(JSON.stringify(reference)) as Record<string, unknown> & { conversation?: Record<string, unknown> };
  return { ...plain, conversation: { ...(plain.conversation ?? {}), id: conversationId } };
}

const mentionEntity = z.object({ type: z.literal('mention'), text: z.string(), mentioned: z.object({ id: z.string() }) });

/**
 * A message's text without the bot's @mentions. botbuilder's `removeRecipientMention` throws on a
 * message with a mention and no text, or on a mention entity missing a field; such a turn failed
 * before the bot could answer. Entities that are not complete mentions of the bot are left alone.
 */
function withoutBotMentions(activity: TurnContext['activity']): string {
  let text = activity.text ?? '';
  for (const entity of activity.entities ?? []) {
    const mention = mentionEntity.safeParse(entity);
    if (mention.success && mention.data.mentioned.id === activity.recipient?.id && mention.data.text !== '') text = text.replace(mention.data.text, '');
  }
  return text;
}

/** The plain activity the bot's logic works on, with mentions of the bot removed from the text. */
export function toIncomingActivity(context: TurnContext): IncomingActivity {
  const activity = context.activity;
  const channelData = teamsChannelData.parse(activity.channelData ?? {});
  const scope = scopeOf(activity);
  const key = conversationKey(activity, scope, channelData.channel?.id);
  const text = activity.type === ActivityTypes.Message ? withoutBotMentions(activity) : '';
  return {
    type: activity.type,
    name: activity.name ?? null,
    channelId: activity.channelId,
    tenantId: channelData.tenant?.id ?? activity.conversation?.tenantId ?? null,
    conversation: { id: key, scope, teamId: scope === 'team' ? (channelData.team?.id ?? null) : null },
    from: { id: activity.from?.id ?? '', aadObjectId: activity.from?.aadObjectId ?? null, name: activity.from?.name ?? '' },
    bot: { id: activity.recipient?.id ?? '', name: activity.recipient?.name ?? '' },
    text: text.trim(),
    value: activity.value,
    membersAdded: (activity.membersAdded ?? []).map((m) => m.id),
    membersRemoved: (activity.membersRemoved ?? []).map((m) => m.id),
    action: activity.action ?? null,
    eventType: activity.type === ActivityTypes.ConversationUpdate ? (channelData.eventType ?? null) : null,
    serviceUrl: activity.serviceUrl,
    reference: referenceOf(activity, key),
  };
}

/** A message carrying one Adaptive Card, refused here if Teams would refuse it for its size. */
export function cardMessage(card: AdaptiveCard): Partial<Activity> {
  serializeCard(card);
  return { type: ActivityTypes.Message, attachments: [{ contentType: adaptiveCardContentType, content: card }] };
}

/** The Universal Actions invoke response: the next card, or an error Teams shows on the card. */
export function invokeResponseBody(answer: InvokeAnswer): Record<string, unknown> {
  if (answer.kind === 'card') {
    serializeCard(answer.card);
    return { statusCode: 200, type: adaptiveCardContentType, value: answer.card };
  }
  return { statusCode: answer.status, type: 'application/vnd.microsoft.error', value: { code: answer.status === 400 ? 'BadRequest' : 'InternalServerError', message: answer.message } };
}

export async function sendReply(context: TurnContext, reply: BotReply): Promise<void> {
  for (const message of reply.messages) {
    await context.sendActivity(typeof message === 'string' ? { type: ActivityTypes.Message, text: message } : cardMessage(message));
  }
  if (reply.invoke) await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body: invokeResponseBody(reply.invoke) } });
}

/** The turn handler botbuilder runs: translate, let the bot decide, send what it decided. */
export function botTurnHandler(bot: SendguardBot): (context: TurnContext) => Promise<void> {
  return async (context) => sendReply(context, await bot.handle(toIncomingActivity(context)));
}
