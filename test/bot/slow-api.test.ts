import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgementInputId, inputIds } from '../../bot/cards/verbs.ts';
import { action, grantRole, onlyCard, startBotHarness, teamsUser, type BotHarness } from '../helpers/bot.ts';
import { cardActions } from '../helpers/cards/card-inspection.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, databaseBehindProxy, needsPostgres, onPostgres } from '../helpers/db.ts';
import { policyActor } from '../helpers/services.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let harness: BotHarness;

describe.skipIf(!onPostgres)(`the bot when the API gives up on a release (${needsPostgres})`, () => {
  beforeAll(async () => {
    harness = await startBotHarness(clock, { env: { SENDGUARD_GRAPHQL_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => harness?.stop());

  it('does not say "nothing was changed" when the release ran out of time, and the release goes through once it can', async () => {
    const tenant = await createTestTenant(harness.database);
    const alice = tenant.address('alice');
    const { restriction } = await harness.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: alice, reasonCode: 'SendingLimitExceeded',
      exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 100, internalRecipientCount: 4, externalRecipientCount: 100,
      policy: { id: null, name: 'Default', action: 'BlockUser' }, temporary: false, actor: policyActor,
    });
    const objectId = crypto.randomUUID();
    await grantRole(harness.services, tenant.id, objectId, 'Security Administrator');
    const lynne = teamsUser(harness.bot, { tenantId: tenant.id, objectId, name: 'Lynne Robbins' });
    const row = cardActions(onlyCard(await lynne.say('restricted'))).find((a) => a.type === 'Action.Execute' && a.verb === 'restricted.show');
    if (row?.type !== 'Action.Execute') throw new Error('no row for alice');
    const recommendations = await lynne.click(action(await lynne.click(row), 'Unblock'));
    const acknowledged = { [acknowledgementInputId('ENABLE_MFA')]: 'true', [acknowledgementInputId('RESET_PASSWORD')]: 'true', [inputIds.reason]: 'Password reset, MFA on.' };
    const yes = action(await lynne.click(action(recommendations, 'Submit'), acknowledged), 'Yes');

    // Another session holds the restriction's row (as a concurrent release would): reads go on, the release waits.
    const other = postgres(harness.database.url as string, { max: 1, onnotice: () => {} });
    let letGo = () => {};
    const holding = new Promise<void>((resolve) => (letGo = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const session = other.begin(async (tx) => {
      await tx`select id from restrictions where id = ${restriction.id} for update`;
      locked();
      await holding;
    });
    try {
      await isLocked;
      const turn = await lynne.invoke(yes.verb, yes.data);
      expect(turn.invoke).toEqual({
        status: 200,
        body: { statusCode: 500, type: 'application/vnd.microsoft.error', value: { code: 'InternalServerError', message: 'Sorry, Sendguard did not finish in time. A change you asked for may still be made: check before trying again.' } },
      });
      expect((await harness.services.restrictionQueries.history(tenant.id, 'user', alice)).releases).toEqual([]);
    } finally {
      letGo();
      await session;
      await other.end();
    }
    const released = async () => (await harness.services.restrictionQueries.history(tenant.id, 'user', alice)).releases;
    expect((await waitFor(released, (list) => list.length > 0, 'the release')).map((r) => [r.restrictionId, r.actorName])).toEqual([[restriction.id, 'Lynne Robbins']]);
  }, 60_000);
});

describe.skipIf(!onPostgres)(`the bot when its database stops answering (${needsPostgres})`, () => {
  let proxy: TcpProxy | undefined;
  let stalled: BotHarness | undefined;
  afterAll(async () => {
    proxy?.resume();
    await stalled?.stop();
    await proxy?.close();
  });

  it('answers within SENDGUARD_BOT_TURN_TIMEOUT_MS that it did not finish, and answers normally once the database is back', async () => {
    const behind = await databaseBehindProxy();
    await behind.direct.close();
    proxy = behind.proxy;
    const database = await behind.open();
    stalled = await startBotHarness(clock, { database, env: { SENDGUARD_BOT_TURN_TIMEOUT_MS: '1000' } });
    const tenant = await createTestTenant(database);
    const objectId = crypto.randomUUID();
    await grantRole(stalled.services, tenant.id, objectId, 'Security Administrator');
    const lynne = teamsUser(stalled.bot, { tenantId: tenant.id, objectId, name: 'Lynne Robbins' });
    expect(onlyCard(await lynne.say('restricted')).type).toBe('AdaptiveCard');

    proxy.stall();
    const asked = Date.now();
    const reply = await lynne.say('restricted');
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect([reply.texts, reply.cards]).toEqual([['Sorry, Sendguard did not finish in time. A change you asked for may still be made: check before trying again.'], []]);
    const invoke = await lynne.invoke('restricted.list', {});
    expect(invoke.invoke?.body).toMatchObject({ statusCode: 500, value: { message: 'Sorry, Sendguard did not finish in time. A change you asked for may still be made: check before trying again.' } });

    proxy.resume();
    expect(onlyCard(await lynne.say('restricted')).type).toBe('AdaptiveCard');
  }, 60_000);
});

describe.skipIf(!onPostgres)(`the bot when its database refuses connections (${needsPostgres})`, () => {
  let proxy: TcpProxy | undefined;
  let down: BotHarness | undefined;
  afterAll(async () => {
    await down?.stop();
    await proxy?.close();
  });

  it('says it could not answer, for a message and a card action alike, instead of saying nothing', async () => {
    const behind = await databaseBehindProxy();
    await behind.direct.close();
    proxy = behind.proxy;
    const database = await behind.open();
    down = await startBotHarness(clock, { database });
    const tenant = await createTestTenant(database);
    const objectId = crypto.randomUUID();
    await grantRole(down.services, tenant.id, objectId, 'Security Administrator');
    const lynne = teamsUser(down.bot, { tenantId: tenant.id, objectId, name: 'Lynne Robbins' });
    expect(onlyCard(await lynne.say('restricted')).type).toBe('AdaptiveCard');

    // The database goes away: who is asking cannot be checked, so nothing is read, but the admin hears so.
    await proxy.close();
    proxy = undefined;
    const sorry = 'Sorry, Sendguard could not answer right now. Nothing was changed; try again in a minute.';
    const reply = await lynne.say('restricted');
    expect([reply.texts, reply.cards]).toEqual([[sorry], []]);
    const invoke = await lynne.invoke('restricted.list', {});
    expect(invoke.invoke).toEqual({ status: 200, body: { statusCode: 500, type: 'application/vnd.microsoft.error', value: { code: 'InternalServerError', message: sorry } } });
  }, 60_000);
});
