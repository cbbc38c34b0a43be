import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { ConnectorError, type Connector } from '../../bot/notices/connector.ts';
import { findConversation, postedCardsOf } from '../../db/repos/teams-conversations.ts';
import { grantRole, startBotHarness, teamsUser, type BotHarness } from '../helpers/bot.ts';
import { cardText, markdownTexts } from '../helpers/cards/card-inspection.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, failPostedCardSaves } from '../helpers/db.ts';
import { policyActor, secondAdmin } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
/** Teams as the bot posts to it: every post lands, in order. */
const posts: { conversationId: string; activityId: string; card: AdaptiveCard }[] = [];
const updates: { activityId: string; card: AdaptiveCard }[] = [];
/** Updates Teams refuses next (a server error, every try). */
let failingUpdates = 0;
/** Runs while Teams takes the next post, before it answers. */
let whilePosting: (() => Promise<void>) | undefined;
const connector: Connector = {
  async post(reference, card) {
    const meanwhile = whilePosting;
    whilePosting = undefined;
    await meanwhile?.();
    const activityId = `activity-${posts.length + 1}`;
    posts.push({ conversationId: String((reference.conversation as { id?: unknown } | undefined)?.id), activityId, card });
    return { activityId };
  },
  update(_reference, activityId, card) {
    if (failingUpdates > 0) {
      failingUpdates -= 1;
      return Promise.reject(new ConnectorError('Service Unavailable', 503, null));
    }
    updates.push({ activityId, card });
    return Promise.resolve();
  },
};
let harness: BotHarness;

beforeAll(async () => {
  harness = await startBotHarness(clock, { connector, retry: { attempts: 2, baseMs: 1, maxMs: 1 } });
});
afterAll(async () => harness?.stop());

/** A tenant whose Security Administrator has turned restriction notices on in a chat with the bot. */
async function subscribedChat() {
  const tenant = await createTestTenant(harness.database);
  const objectId = crypto.randomUUID();
  await grantRole(harness.services, tenant.id, objectId, 'Security Administrator');
  const lynne = teamsUser(harness.bot, { tenantId: tenant.id, objectId, name: 'Lynne Robbins' });
  await lynne.say('subscribe');
  const conversation = await findConversation(harness.services.db, tenant.id, lynne.conversationId);
  if (!conversation) throw new Error('subscribe did not remember the chat');
  return { tenant, lynne, conversation };
}

describe('restriction notices', () => {
  it('posts a notice once when its id cannot be saved for a while: later tries save it instead of posting again', async () => {
    const { tenant, lynne, conversation } = await subscribedChat();
    const address = tenant.address('alice');
    const { restriction } = await harness.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const heal = await failPostedCardSaves(harness.database, tenant.id, 4);
    try {
      // Each try saves twice; the database refuses the first four saves, so only the third try saves it.
      await expect(harness.bot.notices.deliver(conversation, restriction.id)).rejects.toThrow('update "teams_posted_cards"');
      await expect(harness.bot.notices.deliver(conversation, restriction.id)).rejects.toThrow('update "teams_posted_cards"');
      await expect(harness.bot.notices.deliver(conversation, restriction.id)).resolves.toBe('posted');
      await expect(harness.bot.notices.deliver(conversation, restriction.id)).resolves.toBe('already-posted');
    } finally {
      await heal();
    }
    const mine = posts.filter((p) => p.conversationId === lynne.conversationId);
    expect(mine.map((p) => cardText(p.card).includes(`${address} was restricted`))).toEqual([true]);
    expect((await postedCardsOf(harness.services.db, tenant.id, restriction.id)).map((p) => p.card.activityId)).toEqual([mine[0]?.activityId]);
  });

  it('updates a posted notice after a release even when Teams refused the update at first, without posting it again', async () => {
    const { tenant, lynne, conversation } = await subscribedChat();
    const address = tenant.address('bea');
    const { restriction } = await harness.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    await expect(harness.bot.notices.deliver(conversation, restriction.id)).resolves.toBe('posted');
    const [posted] = posts.filter((p) => p.conversationId === lynne.conversationId);
    // Both tries of the release's update are refused.
    failingUpdates = 2;
    await harness.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reason: 'password reset', acknowledgedRecommendations: [], actor: secondAdmin });
    await harness.services.events.flush();
    await harness.bot.notices.idle();
    expect(updates.filter((u) => u.activityId === posted?.activityId)).toEqual([]);

    // Later, Teams answers again: the update owed is made.
    clock.advance(60 * 60_000);
    await harness.bot.notices.updateDue();
    const made = updates.filter((u) => u.activityId === posted?.activityId);
    expect(made.map((u) => cardText(u.card).includes(`${address} was released`))).toEqual([true]);
    await harness.bot.notices.updateDue();
    expect(updates.filter((u) => u.activityId === posted?.activityId)).toHaveLength(1);
    expect(posts.filter((p) => p.conversationId === lynne.conversationId)).toHaveLength(1);
  });

  it('updates a notice whose block an admin made permanent while Teams was taking the post', async () => {
    const { tenant, lynne, conversation } = await subscribedChat();
    const address = tenant.address('gil');
    const { restriction } = await harness.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: true, expiresAt: new Date(clock.now().getTime() + 60 * 60_000), actor: policyActor,
    });
    whilePosting = async () => {
      await harness.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SuspectedCompromise', temporary: false, actor: secondAdmin, extend: true });
      await harness.services.events.flush();
      await harness.bot.notices.idle();
    };
    await expect(harness.bot.notices.deliver(conversation, restriction.id)).resolves.toBe('posted');
    await harness.services.events.flush();
    await harness.bot.notices.idle();
    const [posted] = posts.filter((p) => p.conversationId === lynne.conversationId);
    expect(cardText(posted?.card as AdaptiveCard)).toContain('Temporary, lifts at');
    const made = updates.filter((u) => u.activityId === posted?.activityId);
    expect(made.map((u) => cardText(u.card).includes('Until an admin releases it'))).toEqual([true]);
  });

  it('posts a notice that shows a policy name with Markdown characters as it is', async () => {
    const { tenant, lynne, conversation } = await subscribedChat();
    const policy = 'Sales _EU_ **priority** [ops](https://example.com/x) (`night`) <b>';
    const { restriction } = await harness.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('_ops_'), reasonCode: 'SendingLimitExceeded', exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 500,
      policy: { id: null, name: policy, action: 'BlockUser' }, temporary: false, actor: policyActor,
    });
    await expect(harness.bot.notices.deliver(conversation, restriction.id)).resolves.toBe('posted');
    const [notice] = posts.filter((p) => p.conversationId === lynne.conversationId);
    if (!notice) throw new Error('no notice posted');
    expect(markdownTexts(notice.card).filter((t) => t.includes('priority') || t.includes('_ops_'))).toEqual([]);
    expect(cardText(notice.card)).toContain(policy);
  });
});
