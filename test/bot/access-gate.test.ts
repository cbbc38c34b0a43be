import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { findConversation } from '../../db/repos/teams-conversations.ts';
import { grantRole, onlyCard, startBotHarness, teamsUser, type BotHarness, type Turn } from '../helpers/bot.ts';
import { cardSchemaErrors, cardText } from '../helpers/cards/card-inspection.ts';
import { manualClock } from '../helpers/clock.ts';
import { provisionTenant } from '../../domain/tenants/provision-tenant.ts';
import { createTestDatabase, createTestTenant, type TestTenant } from '../helpers/db.ts';
import { policyActor } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let harness: BotHarness;
/** A bot that answers every tenant Sendguard serves (its own database). */
let unrestricted: BotHarness;
let allowed: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  // The bot answers one of two tenants Sendguard serves, as SENDGUARD_BOT_ALLOWED_TENANTS says.
  const database = await createTestDatabase();
  allowed = await createTestTenant(database);
  other = await createTestTenant(database);
  harness = await startBotHarness(clock, { database, env: { SENDGUARD_BOT_ALLOWED_TENANTS: allowed.id } });
  await harness.services.restrictions.restrict({ tenantId: allowed.id, entityKind: 'user', entityKey: allowed.address('alice'), reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
  unrestricted = await startBotHarness(clock);
});
afterAll(async () => {
  await unrestricted?.stop();
  await harness?.stop();
});

function expectRefusal(turn: Turn, title: string): AdaptiveCard {
  const card = onlyCard(turn);
  expect(cardSchemaErrors(card)).toEqual([]);
  expect(cardText(card)).toContain(title);
  expect(card.actions ?? []).toEqual([]);
  expect(JSON.stringify(card)).not.toContain('alice');
  return card;
}

async function user(tenantId: string, options: { role?: string; channelId?: string } = {}) {
  const objectId = crypto.randomUUID();
  if (options.role) await grantRole(harness.services, tenantId, objectId, options.role);
  return teamsUser(harness.bot, { tenantId, objectId, name: 'Pradeep Gupta', channelId: options.channelId });
}

describe('who the bot answers', () => {
  it('answers an admin with a role in an allowed tenant', async () => {
    const admin = await user(allowed.id, { role: 'Global Reader' });
    expect(cardText(onlyCard(await admin.say('restricted')))).toContain(allowed.address('alice'));
  });

  it('refuses activities that do not come from Teams', async () => {
    const admin = await user(allowed.id, { role: 'Global Administrator', channelId: 'webchat' });
    expectRefusal(await admin.say('restricted'), 'Sendguard works in Microsoft Teams');
  });

  it('refuses a tenant Sendguard serves but the bot is not allowed to answer, and one it does not know', async () => {
    const elsewhere = await user(other.id, { role: 'Global Administrator' });
    expectRefusal(await elsewhere.say('restricted'), "Your organization isn't set up for Sendguard");
    const unknown = teamsUser(harness.bot, { tenantId: '7f0c3d9e-0000-4000-8000-000000000000', objectId: crypto.randomUUID(), name: 'Someone' });
    expectRefusal(await unknown.say('help'), "Your organization isn't set up for Sendguard");
    expect(await findConversation(harness.services.db, other.id, elsewhere.conversationId)).toBeUndefined();
  });

  it('refuses a user with no Sendguard role, for messages, card actions, refreshes and installs alike', async () => {
    const nobody = await user(allowed.id);
    expectRefusal(await nobody.say(`show ${allowed.address('alice')}`), "You don't have access to restricted users");
    const invoke = await nobody.invoke('restricted.list', {});
    expect(invoke.invoke?.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expectRefusal({ cards: [invoke.invoke?.body.value as AdaptiveCard], texts: [], invoke: undefined }, "You don't have access to restricted users");
    const refresh = await nobody.invoke('card.refresh', { view: 'restriction.details', senderAddress: allowed.address('alice') }, 'automatic');
    expect(cardText(refresh.invoke?.body.value as AdaptiveCard)).not.toContain('alice');
    expectRefusal(await nobody.install(), "You don't have access to restricted users");
    expect(await findConversation(harness.services.db, allowed.id, nobody.conversationId)).toBeUndefined();
  });

  it('answers a tenant whose id was configured in upper case, as Teams sends it in lower case', async () => {
    // SENDGUARD_TENANT_ID copied as the portal may show it; Teams sends tenant ids lower-case.
    const id = crypto.randomUUID().toUpperCase();
    const domain = `${id.slice(0, 8).toLowerCase()}.test`;
    await provisionTenant(unrestricted.services.db, { id, name: 'Upper-case tenant', acceptedDomains: [domain] }, { warningThresholdPercent: 80 });
    await unrestricted.services.restrictions.restrict({ tenantId: id, entityKind: 'user', entityKey: `carol@${domain}`, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const objectId = crypto.randomUUID();
    await grantRole(unrestricted.services, id, objectId, 'Security Administrator');
    const admin = teamsUser(unrestricted.bot, { tenantId: id.toLowerCase(), objectId, name: 'Megan Bowen' });
    expect(cardText(onlyCard(await admin.say('restricted')))).toContain(`carol@${domain}`);
    expect(cardText(onlyCard(await admin.say('subscribe')))).toContain('on');
    expect((await findConversation(unrestricted.services.db, id, admin.conversationId))?.subscribed).toBe(true);
    // The bot is removed from the chat: the chat is forgotten, and its notices stop.
    await admin.turn({ type: 'installationUpdate', action: 'remove' });
    expect(await findConversation(unrestricted.services.db, id, admin.conversationId)).toBeUndefined();
  });

  it('refuses a user whose role is in another tenant', async () => {
    const objectId = crypto.randomUUID();
    await grantRole(harness.services, other.id, objectId, 'Global Administrator');
    const stranger = teamsUser(harness.bot, { tenantId: allowed.id, objectId, name: 'Isaiah Langer' });
    expectRefusal(await stranger.say('restricted'), "You don't have access to restricted users");
  });
});
