import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { startSendguard, type RunningSendguard } from '../../cli/serve.ts';
import { createLogger } from '../../cli/logger.ts';
import { findConversation, postedCardsOf } from '../../db/repos/teams-conversations.ts';
import { appendLimitEvent } from '../alerts/alert-fixtures.ts';
import { grantRole } from '../helpers/bot.ts';
import { buttonTitles, cardText } from '../helpers/cards/card-inspection.ts';
import { testConfig } from '../helpers/config.ts';
import { createTestDatabase, createTestTenant, failPostedCardSaves, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { policyActor, secondAdmin } from '../helpers/services.ts';
import { cardOf, startTeamsConnector, type TeamsConnector } from '../helpers/teams-connector.ts';

let database: TestDatabase;
let connector: TeamsConnector;
let sendguard: RunningSendguard;

beforeAll(async () => {
  database = await createTestDatabase();
  connector = await startTeamsConnector();
  sendguard = await startSendguard(testConfig({ SENDGUARD_BOT_DEV_NO_AUTH: 'true', SENDGUARD_EXPIRY_INTERVAL_MS: '200' }), { roles: ['api', 'bot'], database, logger: createLogger('silent') });
});
afterAll(async () => {
  await sendguard?.stop();
  await connector?.close();
  await database?.close();
});

interface Chat {
  tenant: TestTenant;
  objectId: string;
  conversationId: string;
  scope: 'personal' | 'channel';
}

function activity(chat: Chat, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl: connector.url,
    timestamp: new Date().toISOString(),
    from: { id: `29:${chat.objectId}`, name: 'Lynne Robbins', aadObjectId: chat.objectId },
    recipient: { id: '28:sendguard-bot', name: 'Sendguard' },
    conversation: { id: chat.conversationId, conversationType: chat.scope, tenantId: chat.tenant.id, isGroup: chat.scope !== 'personal' },
    channelData: chat.scope === 'channel' ? { tenant: { id: chat.tenant.id }, channel: { id: chat.conversationId }, team: { id: chat.conversationId } } : { tenant: { id: chat.tenant.id } },
    ...fields,
  };
}

async function postActivity(body: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${sendguard.urls.http}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}

async function newChat(scope: Chat['scope'] = 'personal', tenant?: TestTenant): Promise<Chat> {
  const t = tenant ?? (await createTestTenant(database));
  const objectId = randomUUID();
  await grantRole(sendguard.services, t.id, objectId, 'Security Administrator');
  const conversationId = scope === 'channel' ? `19:${randomUUID()}@thread.tacv2` : `a:${randomUUID()}`;
  return { tenant: t, objectId, conversationId, scope };
}

/** Sends a message and returns the card the bot replied with through the connector. */
async function say(chat: Chat, text: string): Promise<AdaptiveCard> {
  const message = activity(chat, { type: 'message', text });
  expect((await postActivity(message)).status).toBe(200);
  const reply = connector.accepted('reply', 'post').find((c) => c.activityId === message.id || c.activity.replyToId === message.id);
  expect(reply?.conversationId).toBe(chat.conversationId);
  return cardOf(reply?.activity ?? {});
}

describe('/api/messages on a running server', () => {
  it('answers a message with a card posted back through the connector, and a card action in the HTTP response', async () => {
    const chat = await newChat();
    const help = await say(chat, 'help');
    expect(cardText(help)).toContain('What you can ask me');
    const invoke = activity(chat, { type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'restricted.list', data: {} }, trigger: 'manual' } });
    const res = await postActivity(invoke);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { statusCode: number; type: string; value: AdaptiveCard };
    expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(cardText(body.value)).toContain('No users are restricted from sending email.');
  });

  it('posts a notice to every subscribed conversation when a user is restricted, and updates it when released', async () => {
    const personal = await newChat();
    const channel = await newChat('channel', personal.tenant);
    expect(cardText(await say(personal, 'subscribe'))).toContain('Restriction notices are on in this chat');
    expect(cardText(await say(channel, 'subscribe'))).toContain('Restriction notices are on in this channel');
    const address = personal.tenant.address('alice');
    const { restriction } = await sendguard.services.restrictions.restrict({ tenantId: personal.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });

    const posts = await connector.until(() => {
      const found = connector.accepted('post').filter((c) => cardText(cardOf(c.activity)).includes(address));
      expect(found).toHaveLength(2);
      return found;
    });
    expect(posts.map((p) => p.conversationId).sort()).toEqual([personal.conversationId, channel.conversationId].sort());
    for (const post of posts) {
      expect(cardText(cardOf(post.activity))).toContain(`${address} was restricted`);
      expect(buttonTitles(cardOf(post.activity))).toEqual(['Review and unblock']);
    }
    // The posted card's id is saved once the connector has answered, so it may land just after the post.
    await vi.waitFor(async () => {
      expect((await postedCardsOf(sendguard.services.db, personal.tenant.id, restriction.id)).map((p) => p.card.activityId).sort()).toEqual(posts.map((p) => p.activityId).sort());
    });

    await sendguard.services.unblock.release({ tenantId: personal.tenant.id, entityKind: 'user', entityKey: address, reason: 'password reset', acknowledgedRecommendations: [], actor: secondAdmin });
    const updates = await connector.until(() => {
      const found = connector.accepted('update').filter((c) => posts.some((p) => p.activityId === c.activityId));
      expect(found).toHaveLength(2);
      return found;
    });
    for (const update of updates) {
      expect(cardText(cardOf(update.activity))).toContain(`${address} was released`);
      expect(cardText(cardOf(update.activity))).toContain(`Released by ${secondAdmin.name}`);
    }
  });

  it('updates a posted notice when the temporary block ends by itself', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const address = chat.tenant.address('dora');
    const expiresAt = new Date(Date.now() + 1500);
    await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ServiceRecipientLimit', temporary: true, expiresAt, actor: policyActor });
    const post = await connector.until(() => {
      const found = connector.accepted('post').find((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(address));
      expect(found).toBeDefined();
      return found;
    });
    expect(cardText(cardOf(post?.activity ?? {}))).toContain('Temporary, lifts at');
    const update = await connector.until(() => {
      const found = connector.accepted('update').find((c) => c.activityId === post?.activityId);
      expect(found).toBeDefined();
      return found;
    });
    expect(cardText(cardOf(update?.activity ?? {}))).toContain(`${address} is no longer restricted`);
    expect(cardText(cardOf(update?.activity ?? {}))).toContain('The temporary block ended');
  });

  it('updates a posted notice when an admin’s block extends the temporary restriction until released', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const address = chat.tenant.address('eve');
    await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ServiceRecipientLimit', temporary: true, expiresAt: new Date(Date.now() + 3_600_000), actor: policyActor });
    const post = await connector.until(() => {
      const found = connector.accepted('post').find((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(address));
      expect(found).toBeDefined();
      return found;
    });
    expect(cardText(cardOf(post?.activity ?? {}))).toContain('Temporary, lifts at');
    await vi.waitFor(async () => expect(await postedCardsOf(sendguard.services.db, chat.tenant.id, (await sendguard.services.restrictionQueries.latest(chat.tenant.id, 'user', address))?.id ?? '')).toHaveLength(1));
    const blocked = await sendguard.services.restrictUser({ tenantId: chat.tenant.id, senderAddress: address, reasonCode: 'SuspectedCompromise', actor: secondAdmin });
    expect(blocked).toMatchObject({ created: false, extended: true });
    const update = await connector.until(() => {
      const found = connector.accepted('update').find((c) => c.activityId === post?.activityId);
      expect(found).toBeDefined();
      return found;
    });
    expect(cardText(cardOf(update?.activity ?? {}))).toContain('Until an admin releases it');
    expect(cardText(cardOf(update?.activity ?? {}))).not.toContain('Temporary, lifts at');
  });

  it('retries a throttled connector, honouring Retry-After, until the notice is posted', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const address = chat.tenant.address('bob');
    // More refusals than botbuilder's own HTTP pipeline retries, so the bot's backoff takes over too.
    connector.refuse('post', 429, 5, { 'Retry-After': '0' });
    await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const post = await connector.until(() => {
      const found = connector.accepted('post').find((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(address));
      expect(found).toBeDefined();
      return found;
    });
    const forChat = connector.calls.filter((c) => c.kind === 'post' && c.conversationId === chat.conversationId);
    expect(forChat.map((c) => c.status)).toEqual([429, 429, 429, 429, 429, 200]);
    expect(cardText(cardOf(post?.activity ?? {}))).toContain('Restricted by an admin');
  });

  it('delivers the "User restricted" alert to a subscribed conversation as the same notice, posted once', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const address = chat.tenant.address('carol');
    await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
    const notifications = await connector.until(async () => {
      const [alert] = (await sendguard.services.alertQueries.list(chat.tenant.id, { entityKey: address }, { first: 5 })).nodes;
      const sent = await sendguard.services.alertQueries.notifications(chat.tenant.id, alert?.id ?? '');
      expect(sent.filter((n) => n.channel === 'teams').map((n) => [n.recipient, n.status])).toEqual([[chat.conversationId, 'Sent']]);
      return sent;
    }, 30_000);
    expect(notifications.length).toBeGreaterThan(0);
    const posts = connector.accepted('post').filter((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(address));
    expect(posts).toHaveLength(1);
  });

  it('posts a notice once when saving the posted notice fails at first: the save is retried, the notice not posted again', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const address = chat.tenant.address('dana');
    const heal = await failPostedCardSaves(database, chat.tenant.id, 1);
    try {
      const { restriction } = await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
      await connector.until(async () => {
        const [alert] = (await sendguard.services.alertQueries.list(chat.tenant.id, { entityKey: address }, { first: 5 })).nodes;
        const sent = await sendguard.services.alertQueries.notifications(chat.tenant.id, alert?.id ?? '');
        expect(sent.filter((n) => n.channel === 'teams').map((n) => n.status)).toEqual(['Sent']);
      }, 30_000);
      const posts = connector.accepted('post').filter((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(address));
      expect(posts).toHaveLength(1);
      expect((await postedCardsOf(sendguard.services.db, chat.tenant.id, restriction.id)).map((p) => p.card.activityId)).toEqual([posts[0]?.activityId]);
    } finally {
      await heal();
    }
  });

  it('posts a notice only as the alert\'s notification: past the daily limit, or with the policy off, none is posted', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const tenantId = chat.tenant.id;
    const policy = 'User restricted from sending email';
    expect((await sendguard.services.alertPolicies.update({ tenantId, policy, dailyNotificationLimit: 1, actor: secondAdmin })).ok).toBe(true);
    const restrict = (local: string) =>
      sendguard.services.restrictions.restrict({ tenantId, entityKind: 'user', entityKey: chat.tenant.address(local), reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const postsFor = (local: string) => connector.accepted('post').filter((c) => c.conversationId === chat.conversationId && cardText(cardOf(c.activity)).includes(chat.tenant.address(local)));
    const teamsNotifications = async (local: string) => {
      const [alert] = (await sendguard.services.alertQueries.list(tenantId, { entityKey: chat.tenant.address(local) }, { first: 5 })).nodes;
      return (await sendguard.services.alertQueries.notifications(tenantId, alert?.id ?? '')).filter((n) => n.channel === 'teams').map((n) => n.status);
    };

    await restrict('fay');
    await connector.until(() => expect(postsFor('fay')).toHaveLength(1), 30_000);
    await restrict('gus');
    await connector.until(async () => expect(await teamsNotifications('gus')).toEqual(['Suppressed']), 30_000);
    expect((await sendguard.services.alertPolicies.update({ tenantId, policy, enabled: false, actor: secondAdmin })).ok).toBe(true);
    await restrict('hal');
    // Handled (and raising nothing) before the policy is on again: alerts follow the policy as it is when they are handled.
    await sendguard.services.events.flush();
    // With the policy on again and no limit, the next one is posted: everything before it was handled.
    expect((await sendguard.services.alertPolicies.update({ tenantId, policy, enabled: true, dailyNotificationLimit: null, actor: secondAdmin })).ok).toBe(true);
    await restrict('ida');
    await connector.until(() => expect(postsFor('ida')).toHaveLength(1), 30_000);
    expect(postsFor('gus')).toEqual([]);
    expect(postsFor('hal')).toEqual([]);
    expect(await teamsNotifications('fay')).toEqual(['Sent']);
  });

  it('forgets a conversation Teams says the bot is no longer in or that is gone, and keeps one refused for another reason', async () => {
    const refusedWith = async (status: number, code: string) => {
      const chat = await newChat();
      await say(chat, 'subscribe');
      const address = chat.tenant.address('ivy');
      connector.refuse('post', status, 1, {}, code);
      await sendguard.services.restrictions.restrict({ tenantId: chat.tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
      await connector.until(async () => {
        const [alert] = (await sendguard.services.alertQueries.list(chat.tenant.id, { entityKey: address }, { first: 5 })).nodes;
        const sent = await sendguard.services.alertQueries.notifications(chat.tenant.id, alert?.id ?? '');
        expect(sent.filter((n) => n.channel === 'teams').map((n) => n.status)).toEqual(['Failed']);
      }, 30_000);
      return findConversation(sendguard.services.db, chat.tenant.id, chat.conversationId);
    };
    expect(await refusedWith(403, 'BotNotInConversationRoster')).toBeUndefined();
    expect(await refusedWith(404, 'ConversationNotFound')).toBeUndefined();
    expect(await refusedWith(403, 'BotDisabledByAdmin')).toMatchObject({ subscribed: true });
  });

  it('posts other alerts ("Sending limit nearly reached") to subscribed conversations as an alert card', async () => {
    const chat = await newChat();
    await say(chat, 'subscribe');
    const sender = chat.tenant.address('erin');
    await appendLimitEvent(database, chat.tenant.id, 'SendingLimitNearlyReached', { sender, limitValue: 500, count: 400, externalRecipientCount: 400 }, new Date());
    const post = await connector.until(() => {
      const found = connector.accepted('post').find((c) => c.conversationId === chat.conversationId);
      expect(found).toBeDefined();
      return found;
    }, 30_000);
    const card = cardOf(post?.activity ?? {});
    expect(cardText(card)).toContain('Alert · Sending limit nearly reached · Medium severity');
    expect(cardText(card)).toContain(`${sender} has used 80 % of a sending limit`);
    expect(buttonTitles(card)).toEqual(['Show sender', 'Policies']);
  });

  it('refuses activities that are too large or not JSON, and anything but POST', async () => {
    const big = await fetch(`${sendguard.urls.http}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'message', text: 'x'.repeat(300 * 1024) }) });
    expect(big.status).toBe(413);
    const junk = await fetch(`${sendguard.urls.http}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":' });
    expect(junk.status).toBe(400);
    expect((await fetch(`${sendguard.urls.http}/api/messages`)).status).toBe(405);
  });
});
