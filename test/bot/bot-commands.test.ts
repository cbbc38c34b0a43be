import { ActivityTypes } from 'botbuilder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { findConversation } from '../../db/repos/teams-conversations.ts';
import { action, grantRole, onlyCard, startBotHarness, teamsUser, type BotHarness, type TeamsUserOptions } from '../helpers/bot.ts';
import { actionLines, buttonTitles, cardSchemaErrors, cardText, markdownTexts } from '../helpers/cards/card-inspection.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { policyActor } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let harness: BotHarness;

beforeAll(async () => {
  harness = await startBotHarness(clock);
});
afterAll(async () => harness?.stop());

async function admin(tenant: TestTenant, options: Partial<TeamsUserOptions> = {}) {
  const objectId = crypto.randomUUID();
  await grantRole(harness.services, tenant.id, objectId, 'Security Administrator');
  return teamsUser(harness.bot, { tenantId: tenant.id, objectId, name: 'Lynne Robbins', ...options });
}

function restrict(tenant: TestTenant, local: string) {
  return harness.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
}

describe('bot commands', () => {
  it('help lists every command; unknown input gets help too', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant);
    const help = onlyCard(await lynne.say('help'));
    expect(cardSchemaErrors(help)).toEqual([]);
    for (const usage of ['restricted [search]', 'show <address>', 'unblock <address>', 'policies', 'subscribe', 'unsubscribe']) expect(cardText(help)).toContain(usage);
    expect(cardText(onlyCard(await lynne.say('please unblock everyone')))).toEqual(cardText(help));
    expect(cardText(onlyCard(await lynne.say('')))).toEqual(cardText(help));
  });

  it('restricted [search] lists the active restrictions, newest first, filtered by part of the address', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'alice');
    clock.advance(60_000);
    await restrict(tenant, 'bob');
    const lynne = await admin(tenant);
    const all = onlyCard(await lynne.say('restricted'));
    expect(actionLines(all).filter((l) => l.startsWith('Details'))).toEqual([
      `Details → restricted.show {"senderAddress":"${tenant.address('bob')}"}`,
      `Details → restricted.show {"senderAddress":"${tenant.address('alice')}"}`,
    ]);
    const search = onlyCard(await lynne.say('restricted ALI'));
    expect(cardText(search)).toContain('1 restricted user matching "ALI"');
    expect(search.refresh?.action.data).toEqual({ view: 'restricted.list', search: 'ALI' });
    expect(cardText(onlyCard(await lynne.say('restricted nobody-here')))).toContain('No restricted users matching "nobody-here".');
  });

  it('pages through a long list with Next and Previous', async () => {
    const tenant = await createTestTenant(harness.database);
    for (let i = 0; i < 12; i += 1) {
      clock.advance(1000);
      await restrict(tenant, `user${String(i).padStart(2, '0')}`);
    }
    const lynne = await admin(tenant);
    const first = onlyCard(await lynne.say('restricted'));
    expect(cardText(first)).toContain('10 of 12 restricted users');
    expect(buttonTitles(first)).toEqual(['Next']);
    const second = await lynne.click(action(first, 'Next'));
    expect(cardText(second)).toContain(tenant.address('user01'));
    expect(cardText(second)).toContain(tenant.address('user00'));
    expect(buttonTitles(second)).toEqual(['Previous']);
    expect(cardText(await lynne.click(action(second, 'Previous')))).toContain(tenant.address('user11'));
  });

  it('show <address> gives the details; an address never restricted and a malformed one say so', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'carol');
    const lynne = await admin(tenant);
    const details = onlyCard(await lynne.say(`show ${tenant.address('carol').toUpperCase()}`));
    expect(cardText(details)).toContain('Suspected compromised account');
    expect(cardText(onlyCard(await lynne.say(`show ${tenant.address('nobody')}`)))).toContain('This address has never been restricted from sending email.');
    expect(cardText(onlyCard(await lynne.say('show not-an-address')))).toContain('Address: an email address');
    expect(cardText(onlyCard(await lynne.say('show')))).toContain('Address: add the address, for example: show alice@contoso.com');
  });

  it('unblock <address> opens the recommendations; a sender who is not restricted gets that card', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'dave');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('dave')}`));
    expect(buttonTitles(recommendations)).toEqual(['Submit', 'Cancel']);
    expect(cardText(onlyCard(await lynne.say(`unblock ${tenant.address('erin')}`)))).toContain(`${tenant.address('erin')} is not restricted`);
    const noAddress = cardText(onlyCard(await lynne.say('unblock')));
    expect(noAddress).toContain('Address: add the address, for example: unblock alice@contoso.com');
    expect(noAddress).not.toContain('show alice@contoso.com');
  });

  it('policies shows the outbound spam policies with the service defaults for 0', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant);
    const policies = onlyCard(await lynne.say('policies'));
    expect(cardSchemaErrors(policies)).toEqual([]);
    expect(cardText(policies)).toContain('Default');
    expect(cardText(policies)).toContain('Action: Restrict the user from sending mail until the following day');
  });

  it('subscribe and unsubscribe turn restriction notices on and off for this conversation', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant);
    const on = onlyCard(await lynne.say('subscribe'));
    expect(cardText(on)).toContain('Restriction notices are on in this chat');
    expect(cardText(on)).toContain('Turned on by Lynne Robbins.');
    expect(await findConversation(harness.services.db, tenant.id, lynne.conversationId)).toMatchObject({ subscribed: true, subscribedBy: lynne.objectId, conversationType: 'personal' });
    expect(cardText(onlyCard(await lynne.say('subscribe')))).toContain('nothing changed');
    const off = await lynne.click(action(on, 'Unsubscribe'));
    expect(cardText(off)).toContain('Restriction notices are off in this chat');
    expect(await findConversation(harness.services.db, tenant.id, lynne.conversationId)).toMatchObject({ subscribed: false, subscribedBy: null });
  });

  it('only an admin who may manage turns notices on or off in a channel, and each change is audited once', async () => {
    const tenant = await createTestTenant(harness.database);
    const channel = `19:${crypto.randomUUID()}@thread.tacv2`;
    const lynne = await admin(tenant, { scope: 'channel', conversationId: channel });
    const readerId = crypto.randomUUID();
    await grantRole(harness.services, tenant.id, readerId, 'Security Reader');
    const adele = teamsUser(harness.bot, { tenantId: tenant.id, objectId: readerId, name: 'Adele Vance', scope: 'channel', conversationId: channel });
    const notices = () => harness.services.auditQueries.search(tenant.id, { action: 'Set-TeamsRestrictionNotices' }, { first: 10 });

    expect(cardText(onlyCard(await lynne.say('subscribe')))).toContain('Turned on by Lynne Robbins.');
    expect(cardText(onlyCard(await lynne.say('subscribe')))).toContain('nothing changed');
    const refused = onlyCard(await adele.say('unsubscribe'));
    expect(cardText(refused)).toContain("You can't turn restriction notices off");
    expect(cardText(refused)).not.toContain('Restriction notices are off');
    const clicked = await adele.invoke('notices.unsubscribe', {});
    expect(cardText(clicked.invoke?.body.value as AdaptiveCard)).toContain("You can't turn restriction notices off");
    expect(await findConversation(harness.services.db, tenant.id, channel)).toMatchObject({ subscribed: true, subscribedBy: lynne.objectId });

    const elsewhere = teamsUser(harness.bot, { tenantId: tenant.id, objectId: readerId, name: 'Adele Vance', scope: 'channel' });
    expect(cardText(onlyCard(await elsewhere.say('subscribe')))).toContain("You can't turn restriction notices on");
    expect(await findConversation(harness.services.db, tenant.id, elsewhere.conversationId)).toMatchObject({ subscribed: false });

    expect(cardText(onlyCard(await lynne.say('unsubscribe')))).toContain('Turned off by Lynne Robbins.');
    const records = (await notices()).records.reverse();
    expect(records.map((r) => ({ actorId: r.actorId, actorName: r.actorName, actorRoles: r.actorRoles, source: r.source, target: r.target, before: r.before, after: r.after }))).toEqual([
      { actorId: lynne.objectId, actorName: 'Lynne Robbins', actorRoles: ['Security Administrator'], source: 'bot', target: channel, before: { subscribed: false }, after: { subscribed: true } },
      { actorId: lynne.objectId, actorName: 'Lynne Robbins', actorRoles: ['Security Administrator'], source: 'bot', target: channel, before: { subscribed: true }, after: { subscribed: false } },
    ]);
  });

  it('strips the @mention in a channel and keeps the channel (not the reply thread) for notices', async () => {
    const tenant = await createTestTenant(harness.database);
    const channel = `19:${crypto.randomUUID()}@thread.tacv2`;
    const lynne = await admin(tenant, { scope: 'channel', conversationId: `${channel};messageid=1732615200000` });
    const mention = { type: 'mention', text: '<at>Sendguard</at>', mentioned: { id: '28:sendguard-bot', name: 'Sendguard' } };
    const reply = await lynne.turn({ type: ActivityTypes.Message, text: '<at>Sendguard</at> subscribe', entities: [mention] });
    expect(cardText(onlyCard(reply))).toContain('Restriction notices are on in this channel');
    const stored = await findConversation(harness.services.db, tenant.id, channel);
    expect(stored).toMatchObject({ subscribed: true, conversationType: 'channel' });
    expect((stored?.reference as { conversation: { id: string } }).conversation.id).toBe(channel);
    const help = onlyCard(await lynne.turn({ type: ActivityTypes.Message, text: '<at>Sendguard</at> help', entities: [mention] }));
    expect(cardText(help)).toContain('mention me first, for example: @Sendguard restricted contoso.com');
  });

  it('answers a mention with no text, or a mention entity Teams did not fill in, with help instead of failing the turn', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant, { scope: 'channel' });
    const mention = { type: 'mention', text: '<at>Sendguard</at>', mentioned: { id: '28:sendguard-bot', name: 'Sendguard' } };
    for (const activity of [
      { type: ActivityTypes.Message, entities: [mention] },
      { type: ActivityTypes.Message, text: '<at>Sendguard</at> help', entities: [{ type: 'mention', text: '<at>Sendguard</at>' }] },
      { type: ActivityTypes.Message, text: '<at>Sendguard</at> help', entities: [{ type: 'mention', mentioned: { id: '28:sendguard-bot' } }] },
    ]) {
      const reply = await lynne.turn(activity);
      expect(reply.invoke).toBeUndefined();
      expect(cardText(onlyCard(reply))).toContain('mention me first, for example: @Sendguard restricted contoso.com');
    }
  });

  it('welcomes once on install, and forgets the conversation when removed', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant);
    const welcome = onlyCard(await lynne.install());
    expect(cardText(welcome)).toContain("Hi Lynne Robbins, I'm Sendguard");
    expect(buttonTitles(welcome)).toEqual(['Restricted users', 'Policies', 'Help']);
    expect((await lynne.turn({ type: 'installationUpdate', action: 'add' })).cards).toEqual([]);
    await lynne.say('subscribe');
    expect((await lynne.turn({ type: 'installationUpdate', action: 'remove' })).cards).toEqual([]);
    expect(await findConversation(harness.services.db, tenant.id, lynne.conversationId)).toBeUndefined();
    expect(onlyCard(await lynne.turn({ type: 'installationUpdate', action: 'add' })).fallbackText).toContain("I'm Sendguard");
  });

  it('forgets a subscribed channel when it is deleted, whoever deletes it, and keeps the team\'s other channels', async () => {
    const tenant = await createTestTenant(harness.database);
    const team = `19:${crypto.randomUUID()}@thread.tacv2`;
    const deleted = `19:${crypto.randomUUID()}@thread.tacv2`;
    const general = await admin(tenant, { scope: 'channel', conversationId: team });
    const lynne = await admin(tenant, { scope: 'channel', conversationId: deleted });
    await general.say('subscribe');
    await lynne.say('subscribe');
    expect(await findConversation(harness.services.db, tenant.id, deleted)).toMatchObject({ subscribed: true });

    // Teams tells the bot in the team's conversation, naming the deleted channel; a team owner needs no Sendguard role.
    const owner = teamsUser(harness.bot, { tenantId: tenant.id, objectId: crypto.randomUUID(), name: 'Megan Bowen', scope: 'channel', conversationId: team });
    const event = await owner.turn({
      type: ActivityTypes.ConversationUpdate,
      channelData: { tenant: { id: tenant.id }, team: { id: team }, channel: { id: deleted, name: 'Incidents' }, eventType: 'channelDeleted' },
    });
    expect([event.cards, event.texts]).toEqual([[], []]);
    expect(await findConversation(harness.services.db, tenant.id, deleted)).toBeUndefined();
    expect(await findConversation(harness.services.db, tenant.id, team)).toMatchObject({ subscribed: true });
  });

  it('forgets every channel of a team when the bot is removed from the team, or the team is deleted or archived', async () => {
    const removals = [
      { name: 'bot removed', type: ActivityTypes.ConversationUpdate, membersRemoved: [{ id: '28:sendguard-bot', name: 'Sendguard' }], eventType: 'teamMemberRemoved' },
      { name: 'app uninstalled', type: 'installationUpdate', action: 'remove' },
      { name: 'team deleted', type: ActivityTypes.ConversationUpdate, eventType: 'teamDeleted' },
      { name: 'team archived', type: ActivityTypes.ConversationUpdate, eventType: 'teamArchived' },
    ];
    for (const { name, eventType, ...removal } of removals) {
      const tenant = await createTestTenant(harness.database);
      // A team's id is the id of its General channel, where Teams sends the team's events.
      const team = `19:${crypto.randomUUID()}@thread.tacv2`;
      const otherTeam = `19:${crypto.randomUUID()}@thread.tacv2`;
      const general = await admin(tenant, { scope: 'channel', conversationId: team, teamId: team });
      const incidents = await admin(tenant, { scope: 'channel', conversationId: `19:${crypto.randomUUID()}@thread.tacv2`, teamId: team });
      const elsewhere = await admin(tenant, { scope: 'channel', conversationId: `19:${crypto.randomUUID()}@thread.tacv2`, teamId: otherTeam });
      for (const channel of [general, incidents, elsewhere]) await channel.say('subscribe');

      const owner = teamsUser(harness.bot, { tenantId: tenant.id, objectId: crypto.randomUUID(), name: 'Megan Bowen', scope: 'channel', conversationId: team, teamId: team });
      const event = await owner.turn({ ...removal, channelData: { tenant: { id: tenant.id }, team: { id: team, name: 'Mail admins' }, ...(eventType ? { eventType } : {}) } });
      expect([name, event.cards, event.texts]).toEqual([name, [], []]);
      expect([name, await findConversation(harness.services.db, tenant.id, incidents.conversationId)]).toEqual([name, undefined]);
      expect([name, await findConversation(harness.services.db, tenant.id, team)]).toEqual([name, undefined]);
      expect(await findConversation(harness.services.db, tenant.id, elsewhere.conversationId)).toMatchObject({ subscribed: true });
    }
  });

  it('shows a policy name and a sender address with Markdown characters as they are', async () => {
    const tenant = await createTestTenant(harness.database);
    const address = tenant.address('_ops_');
    const policy = 'Sales _EU_ **priority** [ops](https://example.com/x) (`night`) <b>';
    await harness.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SendingLimitExceeded', exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 500,
      policy: { id: null, name: policy, action: 'BlockUser' }, temporary: false, actor: policyActor,
    });
    const lynne = await admin(tenant);
    for (const card of [onlyCard(await lynne.say(`show ${address}`)), onlyCard(await lynne.say('restricted'))]) {
      expect(markdownTexts(card).filter((t) => t.includes('priority') || t.includes('_ops_'))).toEqual([]);
    }
    expect(cardText(onlyCard(await lynne.say(`show ${address}`)))).toContain(policy);
  });

  it('answers a malformed card action, or one whose data the API refuses (a list cursor it never issued), with a 400 and changes nothing', async () => {
    const tenant = await createTestTenant(harness.database);
    const lynne = await admin(tenant);
    const bad = await lynne.invoke('unblock.confirm', { senderAddress: 'not an address', restrictionId: 'x' });
    expect(bad.invoke).toMatchObject({ status: 200, body: { statusCode: 400, type: 'application/vnd.microsoft.error' } });
    const unknown = await lynne.invoke('everything.delete', {});
    expect(unknown.invoke?.body).toMatchObject({ statusCode: 400, value: { message: 'unknown action "everything.delete"' } });
    for (const [verb, data] of [
      ['restricted.list', { after: 'garbage' }],
      ['restricted.list', { before: 'garbage', search: 'contoso' }],
      ['card.refresh', { view: 'restricted.list', after: 'garbage' }],
    ] as const) {
      const position = await lynne.invoke(verb, data);
      expect(position.invoke?.body).toMatchObject({ statusCode: 400, type: 'application/vnd.microsoft.error', value: { message: 'Sendguard could not use that: the cursor is not one this API issued. Nothing was changed.' } });
    }
  });

  it('refuses a NUL character in what is typed or sent, and a control character in an address, saying which field', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'frank');
    const lynne = await admin(tenant);
    const search = cardText(onlyCard(await lynne.say('restricted fr\u0000ank')));
    expect(search).toContain('Search: text without a NUL character (U+0000)');
    expect(search).toContain('Nothing was changed.');
    expect(cardText(onlyCard(await lynne.say(`show fr\u0001ank@${tenant.domain}`)))).toContain('Address: an email address');
    const reason = await lynne.invoke('unblock.confirm', { senderAddress: tenant.address('frank'), restrictionId: 'r-1', acknowledgedRecommendations: [], reason: 'checked\u0000' });
    expect(reason.invoke?.body).toMatchObject({ statusCode: 400, value: { message: 'reason: text without a NUL character (U+0000)' } });
    const details = await lynne.say(`show ${tenant.address('frank')}`);
    expect(cardText(onlyCard(details))).toContain('Suspected compromised account');
  });
});
