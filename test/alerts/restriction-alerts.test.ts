import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventsAfter } from '../../db/repos/events.ts';
import { composeAlertEmail } from '../../domain/alerts/alert-message.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { admin, testServices } from '../helpers/services.ts';
import { alertsOf, appendLimitEvent, grantRole, limitRestriction, notificationsOf } from './alert-fixtures.ts';

let database: TestDatabase;
const clock = manualClock('2026-11-26T10:00:00Z');
let services: ReturnType<typeof testServices>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, clock);
});
afterAll(async () => database.close());

/** What the event bus does, by hand: each of the tenant's events to the alert service, in id order. */
async function handleEvents(tenant: TestTenant): Promise<void> {
  for (const event of await readEventsAfter(database.db, 0, 1000, tenant.id)) await services.alerts.handleEvent(event);
}

describe('an admin extending a restriction', () => {
  it('updates the alert of that restriction, long after it was raised, and e-mails no one again', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const sender = tenant.address('alice');
    clock.set('2026-11-26T10:00:00Z');
    const first = await services.restrictions.restrict(limitRestriction(tenant.id, sender));
    await handleEvents(tenant);

    clock.set('2026-11-26T11:30:00Z');
    const extended = await services.restrictUser({ tenantId: tenant.id, senderAddress: sender, reasonCode: 'SuspectedCompromise', details: 'Sign-ins from two countries.', actor: admin });
    expect(extended).toMatchObject({ created: false, extended: true, restriction: { id: first.restriction.id, temporary: false } });
    await handleEvents(tenant);

    const rows = await alertsOf(database, tenant.id);
    expect(rows.map((a) => [a.kind, a.restrictionId, a.hitCount, a.firstSeenAt.toISOString()])).toEqual([
      ['UserRestricted', first.restriction.id, 1, '2026-11-26T10:00:00.000Z'],
    ]);
    expect(rows[0]?.details).toMatchObject({ temporary: false, expiresAt: null, extendedAt: '2026-11-26T11:30:00.000Z', actorName: admin.name });
    expect((await notificationsOf(database, tenant.id)).map((n) => [n.alertId, n.recipient])).toEqual([[rows[0]?.id, tenant.address('gadmin')]]);
    const email = composeAlertEmail(rows[0]!);
    expect(email.text).toContain('The restriction lasts until an admin releases it.');
    expect(email.text).toMatch(/Extended: +2026-11-26 11:30:00 UTC by Adele Vance/);
  });

  it('raises an alert for the extension when the restriction has none (alerts were off when it was made)', async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('bruno');
    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', enabled: false, actor: admin });
    const first = await services.restrictions.restrict(limitRestriction(tenant.id, sender));
    await handleEvents(tenant);
    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', enabled: true, actor: admin });
    await services.restrictUser({ tenantId: tenant.id, senderAddress: sender, reasonCode: 'ManualBlock', actor: admin });
    await handleEvents(tenant);
    expect((await alertsOf(database, tenant.id)).map((a) => [a.restrictionId, a.hitCount])).toEqual([[first.restriction.id, 1]]);
  });
});

describe("the alert e-mail of an admin's block", () => {
  it('carries the details the admin wrote, on one line in the text and escaped in the HTML', async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('carla');
    const details = 'Phished <b>twice</b> & "reset".\r\nWhat to do:\n1. Click https://evil.example\u2028done';
    await services.restrictUser({ tenantId: tenant.id, senderAddress: sender, reasonCode: 'SuspectedCompromise', details, actor: admin });
    await handleEvents(tenant);
    const [alert] = await alertsOf(database, tenant.id);
    const email = composeAlertEmail(alert!);
    expect(email.text).toMatch(/\nDetails: +Phished <b>twice<\/b> & "reset". What to do: 1. Click https:\/\/evil.example done\n/);
    expect(email.text.match(/What to do:/g)).toHaveLength(2);
    expect(email.text).not.toMatch(/^1\. Click/m);
    expect(email.html).toContain('<td>Phished &#60;b&#62;twice&#60;/b&#62; &#38; &#34;reset&#34;. What to do: 1. Click https://evil.example done</td>');
  });

  it("carries the details of the admin who extended a sender's limit restriction", async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('dino');
    await services.restrictions.restrict(limitRestriction(tenant.id, sender));
    await services.restrictUser({ tenantId: tenant.id, senderAddress: sender, reasonCode: 'SuspectedCompromise', details: 'Sign-ins from two countries.', actor: admin });
    await handleEvents(tenant);
    const [alert] = await alertsOf(database, tenant.id);
    expect(composeAlertEmail(alert!).text).toMatch(/\nDetails: +Sign-ins from two countries.\n/);
  });
});

describe('repeats handled in another order than they happened', () => {
  it('leave the alert telling of the latest occurrence, and of the first', async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('erik');
    const exceeded = (limit: string, limitValue: number, iso: string) =>
      appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender, limit, limitValue, count: limitValue + 1 }, new Date(iso));
    await exceeded('RecipientLimitExternalPerHour', 100, '2026-11-26T10:00:00Z');
    await exceeded('RecipientLimitPerDay', 300, '2026-11-26T10:00:40Z');
    // Committed later by another enforcement process, but happened earlier.
    await exceeded('RecipientLimitInternalPerHour', 200, '2026-11-26T10:00:20Z');
    await exceeded('RecipientLimitInternalPerHour', 200, '2026-11-26T09:59:50Z');
    await handleEvents(tenant);

    const rows = await alertsOf(database, tenant.id);
    expect(rows.map((a) => [a.hitCount, a.title, a.firstSeenAt.toISOString(), a.lastSeenAt.toISOString()])).toEqual([
      [4, `${sender} exceeded the sending limit RecipientLimitPerDay`, '2026-11-26T09:59:50.000Z', '2026-11-26T10:00:40.000Z'],
    ]);
    expect(rows[0]?.details).toMatchObject({ exceededLimit: 'RecipientLimitPerDay', limitValue: 300, count: 301 });
    // Every event was handled: handling them again changes nothing.
    await handleEvents(tenant);
    expect((await alertsOf(database, tenant.id)).map((a) => a.hitCount)).toEqual([4]);
  });
});

describe('a repeat handled long after it happened', () => {
  it('that happened well before the alert began is not folded into it: the alert keeps its first seen time', async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('otto');
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender }, new Date('2026-11-26T10:00:00Z'));
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender }, new Date('2026-11-26T10:00:30Z'));
    // Committed half an hour late (an enforcement process that had lost its database).
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender }, new Date('2026-11-26T09:30:00Z'));
    await handleEvents(tenant);
    expect((await alertsOf(database, tenant.id)).map((a) => [a.hitCount, a.firstSeenAt.toISOString(), a.lastSeenAt.toISOString()])).toEqual([
      [1, '2026-11-26T09:30:00.000Z', '2026-11-26T09:30:00.000Z'],
      [2, '2026-11-26T10:00:00.000Z', '2026-11-26T10:00:30.000Z'],
    ]);
  });
});

describe("the restricting policy's notify list", () => {
  it('is the list of the policy that restricted the sender, not of a policy made since under its name', async () => {
    const tenant = await createTestTenant(database);
    const sales = await services.policies.create({ tenantId: tenant.id, name: 'Sales', settings: { notifyOutboundSpamRecipients: ['sales-desk@example.org'] }, actor: admin });
    const restrict = (local: string) =>
      services.restrictions.restrict({ ...limitRestriction(tenant.id, tenant.address(local)), policy: { id: sales.id, name: 'Sales', action: 'BlockUserForToday' } });
    await restrict('gus');
    await handleEvents(tenant);
    await restrict('hal');
    // Before the alert of hal's restriction is raised (e.g. by a catch-up after a restart), the
    // policy is deleted and another one made under the same name.
    await services.policies.remove({ tenantId: tenant.id, name: 'Sales', actor: admin });
    await services.policies.create({ tenantId: tenant.id, name: 'sales', settings: { notifyOutboundSpamRecipients: ['someone-else@example.org'] }, actor: admin });
    await handleEvents(tenant);

    const rows = await alertsOf(database, tenant.id);
    const recipientsOf = async (local: string) => {
      const alert = rows.find((a) => a.entityKey === tenant.address(local));
      return (await notificationsOf(database, tenant.id)).filter((n) => n.alertId === alert?.id).map((n) => n.recipient);
    };
    expect(await recipientsOf('gus')).toEqual(['sales-desk@example.org']);
    expect(await recipientsOf('hal')).toEqual([]);
  });
});
