import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgementInputId, inputIds } from '../../bot/cards/verbs.ts';
import { action, grantRole, onlyCard, startBotHarness, teamsUser, type BotHarness } from '../helpers/bot.ts';
import { cardActions } from '../helpers/cards/card-inspection.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, needsPostgres, onPostgres } from '../helpers/db.ts';
import { policyActor } from '../helpers/services.ts';

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
    for (let waited = 0; (await released()).length === 0; waited += 50) {
      if (waited > 10_000) expect.unreachable('the release did not go through');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await released()).map((r) => [r.restrictionId, r.actorName])).toEqual([[restriction.id, 'Lynne Robbins']]);
  }, 60_000);
});
