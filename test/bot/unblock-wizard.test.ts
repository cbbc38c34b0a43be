import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { acknowledgementInputId, inputIds } from '../../bot/cards/verbs.ts';
import { buttonTitles, cardActions, cardSchemaErrors, cardText } from '../helpers/cards/card-inspection.ts';
import { action, grantRole, onlyCard, startBotHarness, teamsUser, type BotHarness } from '../helpers/bot.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { policyActor, secondAdmin } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let harness: BotHarness;

beforeAll(async () => {
  harness = await startBotHarness(clock);
});
afterAll(async () => harness?.stop());
beforeEach(() => clock.set('2026-11-26T10:00:00Z'));

async function restrict(tenant: TestTenant, local: string) {
  const { restriction } = await harness.services.restrictions.restrict({
    tenantId: tenant.id,
    entityKind: 'user',
    entityKey: tenant.address(local),
    reasonCode: 'SendingLimitExceeded',
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    internalRecipientCount: 4,
    externalRecipientCount: 100,
    policy: { id: null, name: 'Default', action: 'BlockUser' },
    temporary: false,
    actor: policyActor,
  });
  return restriction;
}

async function admin(tenant: TestTenant, role = 'Security Administrator', name = 'Lynne Robbins') {
  const objectId = crypto.randomUUID();
  await grantRole(harness.services, tenant.id, objectId, role);
  return teamsUser(harness.bot, { tenantId: tenant.id, objectId, name });
}

const acknowledged = { [acknowledgementInputId('ENABLE_MFA')]: 'true', [acknowledgementInputId('RESET_PASSWORD')]: 'true', [inputIds.reason]: 'Phishing confirmed; password reset, MFA on.' };

function rowFor(card: AdaptiveCard, address: string) {
  const row = cardActions(card).find((a) => a.type === 'Action.Execute' && a.verb === 'restricted.show' && (a.data as { senderAddress?: string }).senderAddress === address);
  if (!row || row.type !== 'Action.Execute') throw new Error(`no row for ${address}`);
  return row;
}

async function releases(tenant: TestTenant, address: string) {
  return (await harness.services.restrictionQueries.history(tenant.id, 'user', address)).releases;
}

describe('the unblock wizard in Teams', () => {
  it('walks an admin from the list to the release: details, recommendations, submit, confirm, result', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'alice');
    await restrict(tenant, 'bob');
    const lynne = await admin(tenant);

    const list = onlyCard(await lynne.say('restricted'));
    expect(cardSchemaErrors(list)).toEqual([]);
    expect(cardText(list)).toContain(tenant.address('alice'));
    expect(cardText(list)).toContain('2 restricted users');

    const details = await lynne.click(rowFor(list, tenant.address('alice')));
    expect(cardText(details)).toContain('External message limit: 100 recipients per hour');
    expect(buttonTitles(details)).toEqual(['Unblock', 'Back to restricted users']);

    const recommendations = await lynne.click(action(details, 'Unblock'));
    expect(buttonTitles(recommendations)).toEqual(['Submit', 'Cancel']);
    expect(cardText(recommendations)).toContain('[required toggle ack_ENABLE_MFA]');
    expect(cardText(recommendations)).toContain('This sender has not been released in the last 30 days; at most 3 releases are allowed in that window.');

    const confirm = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    expect(cardText(confirm)).toContain(`Unblock ${tenant.address('alice')}?`);
    expect(buttonTitles(confirm)).toEqual(['Yes', 'Cancel']);
    expect(cardText(confirm)).toContain('This is release 1 of at most 3 in 30 days for this sender.');
    expect(await releases(tenant, tenant.address('alice'))).toEqual([]);

    const result = await lynne.click(action(confirm, 'Yes'));
    expect(cardSchemaErrors(result)).toEqual([]);
    expect(cardText(result)).toContain('Released by Lynne Robbins at 2026-11-26 10:00 UTC; sending works again within a second.');
    expect(cardText(result)).toContain('Multi-factor authentication is on');
    const [release] = await releases(tenant, tenant.address('alice'));
    expect(release).toMatchObject({ actorName: 'Lynne Robbins', actorId: lynne.objectId, reason: 'Phishing confirmed; password reset, MFA on.', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] });
    const audit = await harness.services.auditQueries.search(tenant.id, { action: 'Delisted', target: tenant.address('alice') }, { first: 10 });
    expect(audit.records.map((r) => [r.actorId, r.source])).toEqual([[lynne.objectId, 'bot']]);
  });

  it('shows a read-only admin no Unblock button, and the API refuses a forged confirmation anyway', async () => {
    const tenant = await createTestTenant(harness.database);
    const restriction = await restrict(tenant, 'carol');
    const reader = await admin(tenant, 'Global Reader', 'Adele Vance');
    const list = onlyCard(await reader.say('restricted'));
    expect(cardText(list)).toContain('You have read-only access');
    const details = await reader.click(rowFor(list, tenant.address('carol')));
    expect(buttonTitles(details)).toEqual(['Back to restricted users']);
    expect(cardText(onlyCard(await reader.say(`unblock ${tenant.address('carol')}`)))).toContain("You can't unblock users");

    const id = details.refresh?.action.data;
    expect(id).toEqual({ view: 'restriction.details', senderAddress: tenant.address('carol') });
    const forged = { senderAddress: tenant.address('carol'), restrictionId: Buffer.from(`RestrictedUser:${restriction.id}`).toString('base64'), reason: 'x', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] };
    const refused = await reader.invoke('unblock.confirm', forged);
    expect(cardText(refused.invoke?.body.value as AdaptiveCard)).toContain("You can't unblock users");
    expect(await releases(tenant, tenant.address('carol'))).toEqual([]);
    const audit = await harness.services.auditQueries.search(tenant.id, { target: tenant.address('carol') }, { first: 10 });
    expect(audit.records.map((r) => r.action)).toEqual(['Listed']);
  });

  it('insists on the required recommendations, on the card and again on the confirmation', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'dave');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('dave')}`));
    const missing = await lynne.click(action(recommendations, 'Submit'), { [acknowledgementInputId('ENABLE_MFA')]: 'true', [acknowledgementInputId('RESET_PASSWORD')]: 'false' });
    expect(cardText(missing)).toContain('Recommendations: confirm "The password is reset" before you unblock');
    expect(buttonTitles(missing)).toEqual(['Try again']);
    expect(cardText(await lynne.click(action(missing, 'Try again')))).toContain('Before you unblock');

    const confirm = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    const yes = action(confirm, 'Yes');
    const tampered = await lynne.invoke('unblock.confirm', { ...yes.data, acknowledgedRecommendations: [] });
    expect(cardText(tampered.invoke?.body.value as AdaptiveCard)).toContain('confirm "Multi-factor authentication is on" and "The password is reset"');
    expect(await releases(tenant, tenant.address('dave'))).toEqual([]);
  });

  it('releases once on a double click: the second Yes shows who released it', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'erin');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('erin')}`));
    const yes = action(await lynne.click(action(recommendations, 'Submit'), acknowledged), 'Yes');
    const first = await lynne.click(yes);
    const second = await lynne.click(yes);
    expect(cardText(first)).toContain('is unblocked');
    expect(cardText(second)).toContain(`${tenant.address('erin')} is not restricted`);
    expect(cardText(second)).toContain('Released by Lynne Robbins at 2026-11-26 10:00 UTC');
    expect(await releases(tenant, tenant.address('erin'))).toHaveLength(1);
  });

  it('releases once when two admins confirm at the same moment', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'frank');
    const lynne = await admin(tenant);
    const lee = await admin(tenant, 'Organization Management', 'Lee Gu');
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('frank')}`));
    const yes = action(await lynne.click(action(recommendations, 'Submit'), acknowledged), 'Yes');
    const cards = await Promise.all([lynne.click(yes), lee.click(yes)]);
    const texts = cards.map(cardText);
    expect(texts.filter((t) => t.includes('is unblocked'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('is not restricted'))).toHaveLength(1);
    expect(await releases(tenant, tenant.address('frank'))).toHaveLength(1);
  });

  it('shows the current state on a stale card: released elsewhere, or restricted again since', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'gina');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('gina')}`));
    const confirm = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    clock.advance(60_000);
    await harness.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('gina'), reason: 'done in the CLI', acknowledgedRecommendations: [], actor: secondAdmin });

    const staleSubmit = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    expect(cardText(staleSubmit)).toContain(`Released by ${secondAdmin.name} at 2026-11-26 10:01 UTC`);
    expect(buttonTitles(staleSubmit)).toEqual(['Show details']);
    const staleYes = await lynne.click(action(confirm, 'Yes'));
    expect(cardText(staleYes)).toContain(`${tenant.address('gina')} is not restricted`);
    expect(cardText(staleYes)).toContain('Reason: done in the CLI');
    const refreshed = await lynne.click(confirm.refresh!.action);
    expect(cardText(refreshed)).toContain('Released: this user can send email again');

    clock.advance(60_000);
    await restrict(tenant, 'gina');
    const again = await lynne.click(action(confirm, 'Yes'));
    expect(cardText(again)).toContain(`${tenant.address('gina')} was restricted again since this card was sent`);
    expect(cardText(again)).not.toContain('is not restricted');
    expect(cardText(again)).toContain('Nothing was released.');
    expect(cardText(again)).toContain('Restricted: 2026-11-26 10:02 UTC');
    expect(buttonTitles(again)).toEqual(['Review the new restriction']);
    expect(buttonTitles(await lynne.click(action(again, 'Review the new restriction')))).toEqual(['Unblock', 'Back to restricted users']);
    expect(cardText(await lynne.click(confirm.refresh!.action))).toContain('was restricted again since this card was sent');
    expect(await releases(tenant, tenant.address('gina'))).toHaveLength(1);
  });

  it('answers a confirmation whose restriction id is not the sender\'s with a validation error, and releases nothing', async () => {
    const tenant = await createTestTenant(harness.database);
    const other = await restrict(tenant, 'mona');
    await restrict(tenant, 'liam');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('liam')}`));
    const yes = action(await lynne.click(action(recommendations, 'Submit'), acknowledged), 'Yes');
    const othersId = Buffer.from(`RestrictedUser:${other.id}`).toString('base64');
    for (const restrictionId of ['garbage', othersId, Buffer.from(`RestrictedUser:${crypto.randomUUID()}`).toString('base64')]) {
      const forged = (await lynne.invoke('unblock.confirm', { ...yes.data, restrictionId })).invoke?.body.value as AdaptiveCard;
      expect(cardText(forged)).toContain('Check what you entered');
      expect(cardText(forged)).toContain(`Restriction: is not the id of a restriction of ${tenant.address('liam')}`);
      expect(cardText(forged)).not.toContain('is not restricted');
      const refreshed = await lynne.invoke('card.refresh', { view: 'unblock.confirm', ...yes.data, restrictionId });
      expect(cardText(refreshed.invoke?.body.value as AdaptiveCard)).toContain('Restriction: is not the id of a restriction of');
    }
    expect(await releases(tenant, tenant.address('liam'))).toEqual([]);
    expect(await releases(tenant, tenant.address('mona'))).toEqual([]);
  });

  it('refreshes a notice only with a restriction of its own sender: another sender\'s id is a validation error', async () => {
    const tenant = await createTestTenant(harness.database);
    const bob = await restrict(tenant, 'bob');
    const dave = await restrict(tenant, 'dave');
    const lynne = await admin(tenant);
    const globalId = (rowId: string) => Buffer.from(`RestrictedUser:${rowId}`).toString('base64');
    const notice = async (restrictionId: string) => {
      const turn = await lynne.invoke('card.refresh', { view: 'restriction.notice', senderAddress: tenant.address('dave'), restrictionId }, 'automatic');
      expect(turn.invoke?.status).toBe(200);
      return turn.invoke?.body.value as AdaptiveCard;
    };
    const own = await notice(globalId(dave.id));
    expect(cardText(own)).toContain(`${tenant.address('dave')} was restricted`);
    expect(own.refresh?.action.data).toEqual({ view: 'restriction.notice', senderAddress: tenant.address('dave'), restrictionId: globalId(dave.id) });
    for (const restrictionId of [globalId(bob.id), globalId(crypto.randomUUID()), 'garbage']) {
      const forged = await notice(restrictionId);
      expect(cardText(forged)).toContain('Check what you entered');
      expect(cardText(forged)).toContain(`Restriction: is not the id of a restriction of ${tenant.address('dave')}`);
      expect(cardText(forged)).not.toContain(tenant.address('bob'));
      expect(forged.refresh).toBeUndefined();
    }
  });

  async function releasedThreeTimes(tenant: TestTenant, local: string) {
    for (const at of ['2026-11-02T08:00:00Z', '2026-11-10T08:00:00Z', '2026-11-20T08:00:00Z']) {
      clock.set(at);
      await restrict(tenant, local);
      await harness.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reason: 'ok', acknowledgedRecommendations: [], actor: secondAdmin });
    }
    clock.set('2026-11-26T10:00:00Z');
    await restrict(tenant, local);
  }

  it('past the quota offers no Submit or Yes, says when the next release is possible, and offers them again once it is', async () => {
    const tenant = await createTestTenant(harness.database);
    const address = tenant.address('hank');
    await releasedThreeTimes(tenant, 'hank');
    const lynne = await admin(tenant);
    const details = onlyCard(await lynne.say(`show ${address}`));
    expect(cardText(details)).toContain('Earlier restrictions (3)');

    const recommendations = await lynne.click(action(details, 'Unblock'));
    expect(cardSchemaErrors(recommendations)).toEqual([]);
    expect(cardText(recommendations)).toContain(`${address} can't be unblocked yet`);
    expect(cardText(recommendations)).toContain('Released 3 times in the last 30 days; at most 3 releases are allowed.');
    expect(cardText(recommendations)).toContain('The next release is possible at 2026-12-02 08:00 UTC (in 5 days).');
    expect(buttonTitles(recommendations)).toEqual(['Show details']);
    expect(cardText(recommendations)).not.toContain('[required toggle');
    expect(cardText(onlyCard(await lynne.say(`unblock ${address}`)))).toEqual(cardText(recommendations));

    // Submit on a recommendations card sent before the quota was used up.
    const target = recommendations.refresh!.action.data as { senderAddress: string; restrictionId: string };
    const confirm = (await lynne.invoke('unblock.submit', { senderAddress: target.senderAddress, restrictionId: target.restrictionId, ...acknowledged })).invoke?.body.value as AdaptiveCard;
    expect(cardSchemaErrors(confirm)).toEqual([]);
    expect(cardText(confirm)).toContain(`${address} can't be unblocked yet`);
    expect(cardText(confirm)).toContain('The next release is possible at 2026-12-02 08:00 UTC (in 5 days).');
    expect(cardText(confirm)).not.toContain('This is release 4');
    expect(buttonTitles(confirm)).toEqual(['Show details']);

    // A Yes from an older confirmation: the API refuses it as the card said.
    const yes = { ...target, acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'], reason: 'again' };
    const refused = (await lynne.invoke('unblock.confirm', yes)).invoke?.body.value as AdaptiveCard;
    expect(cardText(refused)).toContain(`${address} can't be unblocked yet`);
    expect(cardText(refused)).toContain('The next release is possible at 2026-12-02 08:00 UTC');
    expect(await releases(tenant, address)).toHaveLength(3);

    clock.set('2026-12-02T08:00:01Z');
    const reopened = await lynne.click(recommendations.refresh!.action);
    expect(buttonTitles(reopened)).toEqual(['Submit', 'Cancel']);
    expect(cardText(reopened)).toContain('This sender was released 2 times in the last 30 days; at most 3 releases are allowed in that window.');
    const confirmAgain = await lynne.click(confirm.refresh!.action);
    expect(buttonTitles(confirmAgain)).toEqual(['Yes', 'Cancel']);
    expect(cardText(confirmAgain)).toContain('This is release 3 of at most 3 in 30 days for this sender.');
  });

  it("past the quota, where the tenant requires a second admin's approval, says so and releases on the second admin's Yes", async () => {
    const tenant = await createTestTenant(harness.database);
    await harness.services.tenantAdmin.setUnblockSettings({ tenantId: tenant.id, actor: secondAdmin, requireSecondApproval: true });
    const address = tenant.address('iris');
    await releasedThreeTimes(tenant, 'iris');
    const lynne = await admin(tenant);
    const lee = await admin(tenant, 'Organization Management', 'Lee Gu');

    const recommendations = onlyCard(await lynne.say(`unblock ${address}`));
    expect(buttonTitles(recommendations)).toEqual(['Submit', 'Cancel']);
    expect(cardText(recommendations)).toContain('Released 3 times in the last 30 days; at most 3 releases are allowed without approval.');
    expect(cardText(recommendations)).toContain("This release needs a second admin's approval");
    const confirm = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    expect(cardSchemaErrors(confirm)).toEqual([]);
    expect(buttonTitles(confirm)).toEqual(['Yes', 'Cancel']);
    expect(cardText(confirm)).toContain(`${address} will be able to send email again within a second of the second admin's confirmation.`);
    expect(cardText(confirm)).toContain("This release needs a second admin's approval");
    expect(cardText(confirm)).not.toContain('This is release 4');

    const requested = await lynne.click(action(confirm, 'Yes'));
    expect(cardText(requested)).toContain(`${address} needs a second admin's approval`);
    expect(cardText(requested)).toContain('Release requested by Lynne Robbins at 2026-11-26 10:00 UTC.');
    expect(await releases(tenant, address)).toHaveLength(3);

    const leesConfirm = await lee.click(action(onlyCard(await lee.say(`unblock ${address}`)), 'Submit'), acknowledged);
    const released = await lee.click(action(leesConfirm, 'Yes'));
    expect(cardText(released)).toContain(`${address} is unblocked`);
    expect(cardText(released)).toContain('Released by Lee Gu at 2026-11-26 10:00 UTC');
    expect(await releases(tenant, address)).toHaveLength(4);
  });

  it('Cancel goes back to the details without changing anything', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'ivy');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('ivy')}`));
    const back = await lynne.click(action(recommendations, 'Cancel'));
    expect(buttonTitles(back)).toEqual(['Unblock', 'Back to restricted users']);
    expect(await releases(tenant, tenant.address('ivy'))).toEqual([]);
  });

  it('refreshes each view with current data for whoever looks at it', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'jack');
    const lynne = await admin(tenant);
    const list = onlyCard(await lynne.say('restricted'));
    expect(list.refresh?.action.data).toEqual({ view: 'restricted.list' });
    clock.advance(60_000);
    await restrict(tenant, 'kate');
    expect(cardText(await lynne.click(list.refresh!.action))).toContain(tenant.address('kate'));
    const policies = onlyCard(await lynne.say('policies'));
    expect(cardText(await lynne.click(policies.refresh!.action))).toContain('Default');
    const reader = await admin(tenant, 'Security Reader', 'Adele Vance');
    const details = onlyCard(await lynne.say(`show ${tenant.address('jack')}`));
    expect(buttonTitles(await reader.click(details.refresh!.action))).toEqual(['Back to restricted users']);
  });

  it('refreshes a confirmation for a read-only admin without a Yes, as it does the recommendations', async () => {
    const tenant = await createTestTenant(harness.database);
    await restrict(tenant, 'lena');
    const lynne = await admin(tenant);
    const recommendations = onlyCard(await lynne.say(`unblock ${tenant.address('lena')}`));
    const confirm = await lynne.click(action(recommendations, 'Submit'), acknowledged);
    expect(confirm.refresh?.action.data).toMatchObject({ view: 'unblock.confirm', senderAddress: tenant.address('lena') });
    for (const role of ['Global Reader', 'Security Reader']) {
      const reader = await admin(tenant, role, 'Adele Vance');
      const asReader = { confirm: await reader.click(confirm.refresh!.action), recommendations: await reader.click(recommendations.refresh!.action) };
      expect(cardText(asReader.confirm)).toContain("You can't unblock users");
      expect(cardText(asReader.confirm)).not.toContain(`Unblock ${tenant.address('lena')}?`);
      expect(buttonTitles(asReader.confirm)).not.toContain('Yes');
      expect(cardText(asReader.confirm)).toEqual(cardText(asReader.recommendations));
    }
    expect(buttonTitles(await lynne.click(confirm.refresh!.action))).toEqual(['Yes', 'Cancel']);
    expect(await releases(tenant, tenant.address('lena'))).toEqual([]);
  });
});
