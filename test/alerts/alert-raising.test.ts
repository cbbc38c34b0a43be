import { and, asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit-log.ts';
import { events } from '../../db/schema/events.ts';
import { composeAlertEmail } from '../../domain/alerts/alert-message.ts';
import { AlertNotFoundError, AlertStatusTransitionError } from '../../domain/alerts/errors.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { admin, testServices } from '../helpers/services.ts';
import { addConversation, alertsOf, appendLimitEvent, grantRole, limitRestriction, notificationsOf, setAuditLog } from './alert-fixtures.ts';

let database: TestDatabase;
const clock = manualClock('2026-11-26T10:00:00Z');
let services: ReturnType<typeof testServices>;
const handlerErrors: unknown[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, clock);
  await services.events.start();
  services.events.subscribe((event) => services.alerts.handleEvent(event).then(() => undefined, (err: unknown) => void handlerErrors.push(err)));
});
afterEach(() => expect(handlerErrors).toEqual([]));
afterAll(async () => {
  await services.events.stop();
  await database.close();
});

const at = (iso: string) => new Date(iso);

async function restrict(tenant: TestTenant, local: string) {
  const result = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address(local)));
  await services.events.flush();
  return result.restriction;
}

async function exceed(tenant: TestTenant, local: string, occurredAt: Date, type: 'SendingLimitExceeded' | 'SendingLimitNearlyReached' = 'SendingLimitExceeded') {
  const event = await appendLimitEvent(database, tenant.id, type, { sender: tenant.address(local) }, occurredAt);
  await services.events.flush();
  return event;
}

describe('raising alerts from events', () => {
  it('a restriction raises a High alert linked to it, notifying the Global Administrators, extra addresses and subscribed chats', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await grantRole(database, tenant.id, '6f1c2d9e-0000-4000-8000-000000000001', 'Global Administrator');
    await grantRole(database, tenant.id, tenant.address('secadmin'), 'Security Administrator');
    await addConversation(database, tenant.id, '19:soc@thread.tacv2', true);
    await addConversation(database, tenant.id, '19:quiet@thread.tacv2', false);
    const updated = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', recipients: ['TenantAdmins', 'SOC@Example.org'], actor: admin });
    expect(updated.ok).toBe(true);

    const restriction = await restrict(tenant, 'alice');

    const [alert, ...others] = await alertsOf(database, tenant.id);
    expect(others).toEqual([]);
    expect(alert).toMatchObject({
      kind: 'UserRestricted',
      severity: 'High',
      status: 'New',
      entityKind: 'user',
      entityKey: tenant.address('alice'),
      restrictionId: restriction.id,
      hitCount: 1,
      title: `${tenant.address('alice')} is restricted from sending email`,
      firstSeenAt: at('2026-11-26T10:00:00Z'),
    });
    expect(alert?.details).toMatchObject({ exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 100, internalRecipientCount: 12, externalRecipientCount: 100, temporary: true });
    const sent = (await notificationsOf(database, tenant.id)).map((n) => [n.channel, n.recipient, n.status]);
    expect(sent).toEqual([
      ['email', tenant.address('gadmin'), 'Pending'],
      ['email', 'soc@example.org', 'Pending'],
      ['teams', '19:soc@thread.tacv2', 'Pending'],
    ]);
    const published = await database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.type, 'AlertRaised')));
    expect(published.map((e) => e.payload)).toEqual([expect.objectContaining({ alertId: alert?.id, severity: 'High', restrictionId: restriction.id })]);
  });

  it("e-mails the restricting policy's notify recipients with the alert, even with the alert policy's e-mail off, but not for a manual restriction", async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const byDefault = await services.policies.update({ tenantId: tenant.id, name: 'default', settings: { notifyOutboundSpamRecipients: ['Helpdesk@Example.org'] }, actor: admin });
    const restrictByDefault = async (local: string) => {
      await services.restrictions.restrict({ ...limitRestriction(tenant.id, tenant.address(local)), policy: { id: byDefault.id, name: 'Default', action: 'BlockUserForToday' } });
      await services.events.flush();
    };
    const emailsOf = async (address: string) => {
      const [alert] = (await alertsOf(database, tenant.id)).filter((a) => a.entityKey === address);
      return (await notificationsOf(database, tenant.id)).filter((n) => n.alertId === alert?.id).map((n) => `${n.channel} ${n.recipient}`);
    };

    await restrictByDefault('alice');
    expect(await emailsOf(tenant.address('alice'))).toEqual([`email ${tenant.address('gadmin')}`, 'email helpdesk@example.org']);

    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', emailEnabled: false, actor: admin });
    await restrictByDefault('bob');
    expect(await emailsOf(tenant.address('bob'))).toEqual(['email helpdesk@example.org']);

    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('carol'), reasonCode: 'ManualBlock', temporary: false, actor: admin });
    await services.events.flush();
    expect((await alertsOf(database, tenant.id)).map((a) => a.entityKey)).toContain(tenant.address('carol'));
    expect(await emailsOf(tenant.address('carol'))).toEqual([]);
  });

  it('a connector restriction raises the same policy, about the connector', async () => {
    const tenant = await createTestTenant(database);
    await services.restrictions.restrict({ ...limitRestriction(tenant.id, '7D8A0B1C-2E3F-4A5B-8C6D-9E0F1A2B3C4D'), entityKind: 'connector', reasonCode: 'SuspectedCompromise' });
    await services.events.flush();
    const [alert] = await alertsOf(database, tenant.id);
    expect(alert).toMatchObject({ kind: 'UserRestricted', entityKind: 'connector', entityKey: '7d8a0b1c-2e3f-4a5b-8c6d-9e0f1a2b3c4d', title: 'Connector 7d8a0b1c-2e3f-4a5b-8c6d-9e0f1a2b3c4d is restricted from sending email' });
  });

  it("an admin's block that takes over a service-limit restriction is alerted as the admin's block, not as the limit", async () => {
    const tenant = await createTestTenant(database);
    const sender = tenant.address('otto');
    await services.restrictions.restrict({
      ...limitRestriction(tenant.id, sender),
      reasonCode: 'ServiceRecipientLimit',
      exceededLimit: 'ServiceRecipientsPerDay',
      limitValue: 4,
      policy: null,
      expiresAt: at('2026-11-26T12:00:00Z'),
    });
    const blocked = await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: sender, reasonCode: 'SuspectedCompromise', details: 'Found by the SOC.', temporary: false, actor: admin, extend: true });
    expect(blocked).toMatchObject({ extended: true, restriction: { reasonCode: 'SuspectedCompromise', exceededLimit: null, limitValue: null } });
    await services.events.flush();
    const latest = (await alertsOf(database, tenant.id)).at(-1);
    expect(latest?.details).toMatchObject({ reasonCode: 'SuspectedCompromise', exceededLimit: null });
    const email = composeAlertEmail(latest!);
    expect(email.text).toContain(`${sender} can no longer send email because an admin found it likely compromised. It can still receive mail. The restriction lasts until an admin releases it.`);
    expect(email.text).not.toContain('ServiceRecipientsPerDay');
  });

  it('a repeat within the aggregation interval raises the hit count; a later one raises a new alert', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await exceed(tenant, 'bob', at('2026-11-26T10:00:00Z'));
    await exceed(tenant, 'bob', at('2026-11-26T10:00:40Z'));
    await exceed(tenant, 'bob', at('2026-11-26T10:01:30Z'));
    await exceed(tenant, 'carol', at('2026-11-26T10:01:31Z'));
    await exceed(tenant, 'bob', at('2026-11-26T10:02:31Z'));

    const rows = await alertsOf(database, tenant.id);
    expect(rows.map((a) => [a.entityKey, a.kind, a.severity, a.hitCount, a.firstSeenAt.toISOString(), a.lastSeenAt.toISOString()])).toEqual([
      [tenant.address('bob'), 'SendingLimitExceeded', 'Medium', 3, '2026-11-26T10:00:00.000Z', '2026-11-26T10:01:30.000Z'],
      [tenant.address('carol'), 'SendingLimitExceeded', 'Medium', 1, '2026-11-26T10:01:31.000Z', '2026-11-26T10:01:31.000Z'],
      [tenant.address('bob'), 'SendingLimitExceeded', 'Medium', 1, '2026-11-26T10:02:31.000Z', '2026-11-26T10:02:31.000Z'],
    ]);
    expect(rows[0]?.restrictionId).toBeNull();
    expect(rows[0]?.details).toMatchObject({ exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 100, count: 101, policyName: 'Default' });
    // A repeat raises the count, not another round of e-mail.
    expect((await notificationsOf(database, tenant.id)).map((n) => n.alertId)).toEqual(rows.map((a) => a.id));
  });

  it('a repeat about another limit raises the hit count, and the title, like the details, then tells of that limit', async () => {
    const tenant = await createTestTenant(database);
    await exceed(tenant, 'bea', at('2026-11-26T10:00:00Z'));
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('bea'), limit: 'RecipientLimitPerDay', limitValue: 300, count: 301 }, at('2026-11-26T10:00:05Z'));
    await services.events.flush();
    const rows = await alertsOf(database, tenant.id);
    expect(rows.map((a) => [a.hitCount, a.title, (a.details as { exceededLimit: string }).exceededLimit])).toEqual([
      [2, `${tenant.address('bea')} exceeded the sending limit RecipientLimitPerDay`, 'RecipientLimitPerDay'],
    ]);
  });

  it('a new restriction soon after a release raises its own alert, with its notifications, linked to it', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const first = await restrict(tenant, 'dora');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('dora'), reason: 'ok', acknowledgedRecommendations: [], actor: admin });
    const second = await restrict(tenant, 'dora');
    const rows = await alertsOf(database, tenant.id);
    // Both at the same (test) time: compared in no particular order.
    expect(rows.map((a) => [a.kind, a.hitCount, a.restrictionId]).sort()).toEqual(
      [
        ['UserRestricted', 1, first.id],
        ['UserRestricted', 1, second.id],
      ].sort(),
    );
    expect((await notificationsOf(database, tenant.id)).map((n) => n.alertId).sort()).toEqual(rows.map((a) => a.id).sort());
  });

  it('a resolved alert is not reopened by a repeat: the repeat raises a new alert', async () => {
    const tenant = await createTestTenant(database);
    await exceed(tenant, 'dora', at('2026-11-26T11:00:00Z'));
    const [first] = await alertsOf(database, tenant.id);
    await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId: first?.id ?? '', status: 'Resolved', actor: admin });
    await exceed(tenant, 'dora', at('2026-11-26T11:00:10Z'));
    expect((await alertsOf(database, tenant.id)).map((a) => [a.status, a.hitCount])).toEqual([['Resolved', 1], ['New', 1]]);
  });

  it('the early warning carries the threshold', async () => {
    const tenant = await createTestTenant(database);
    await exceed(tenant, 'erin', at('2026-11-26T12:00:00Z'), 'SendingLimitNearlyReached');
    const [alert] = await alertsOf(database, tenant.id);
    expect(alert).toMatchObject({ kind: 'SendingLimitNearlyReached', severity: 'Medium', title: `${tenant.address('erin')} is close to the sending limit RecipientLimitExternalPerHour` });
    expect(alert?.details).toMatchObject({ thresholdPercent: 80, count: 80, limitValue: 100 });
  });

  it('ignores events it has no policy for and malformed payloads', async () => {
    const tenant = await createTestTenant(database);
    await appendLimitEvent(database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('fred'), limitValue: 'lots' as unknown as number }, clock.now());
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('gina')));
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('gina'), reason: 'ok', acknowledgedRecommendations: [], actor: admin });
    await services.events.flush();
    expect((await alertsOf(database, tenant.id)).map((a) => a.entityKey)).toEqual([tenant.address('gina')]);
  });
});

describe('when alerts are raised at all', () => {
  it('raises nothing while the audit log is off, and says so on every policy', async () => {
    const tenant = await createTestTenant(database);
    await setAuditLog(database, tenant.id, false);
    await restrict(tenant, 'hank');
    await exceed(tenant, 'hank', clock.now());
    expect(await alertsOf(database, tenant.id)).toEqual([]);
    const policies = await services.alertPolicies.list(tenant.id);
    expect(policies.map((p) => [p.name, p.active, p.inactiveReason])).toEqual([
      ['Email sending limit exceeded', false, 'AuditLogDisabled'],
      ['Sending limit nearly reached', false, 'AuditLogDisabled'],
      ['User restricted from sending email', false, 'AuditLogDisabled'],
    ]);
    expect(policies[0]?.inactiveExplanation).toMatch(/audit log is on/);

    await setAuditLog(database, tenant.id, true);
    await exceed(tenant, 'hank', clock.now());
    expect((await alertsOf(database, tenant.id)).map((a) => a.kind)).toEqual(['SendingLimitExceeded']);
    expect((await services.alertPolicies.list(tenant.id)).every((p) => p.active && p.inactiveReason === null)).toBe(true);
  });

  it('a disabled policy raises nothing and reports why', async () => {
    const tenant = await createTestTenant(database);
    const off = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', enabled: false, actor: admin });
    expect(off.ok && [off.policy.active, off.policy.inactiveReason]).toEqual([false, 'PolicyDisabled']);
    await restrict(tenant, 'ivan');
    await exceed(tenant, 'ivan', clock.now());
    expect((await alertsOf(database, tenant.id)).map((a) => a.kind)).toEqual(['SendingLimitExceeded']);
  });
});

describe('events handled while alerts were off', () => {
  it('are not raised by a catch-up after the audit log or the policy is back on', async () => {
    const tenant = await createTestTenant(database);
    const since = new Date(clock.now().getTime() - 60 * 60_000);
    await setAuditLog(database, tenant.id, false);
    await restrict(tenant, 'kate');
    await exceed(tenant, 'kate', clock.now(), 'SendingLimitNearlyReached');
    await setAuditLog(database, tenant.id, true);
    const off = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', enabled: false, actor: admin });
    expect(off.ok).toBe(true);
    await restrict(tenant, 'liam');
    await exceed(tenant, 'liam', clock.now());
    expect((await alertsOf(database, tenant.id)).map((a) => [a.kind, a.entityKey])).toEqual([['SendingLimitExceeded', tenant.address('liam')]]);
    const on = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'User restricted from sending email', enabled: true, actor: admin });
    expect(on.ok).toBe(true);

    // What a process starting now does: every event of the last hour again, each one already handled.
    expect(await services.alerts.catchUp({ since, throughId: services.events.lastDeliveredId })).toBe(0);
    expect((await alertsOf(database, tenant.id)).map((a) => [a.kind, a.entityKey])).toEqual([['SendingLimitExceeded', tenant.address('liam')]]);
    // The streams still take new events.
    await exceed(tenant, 'kate', clock.now(), 'SendingLimitNearlyReached');
    await restrict(tenant, 'mona');
    expect((await alertsOf(database, tenant.id)).map((a) => a.entityKey).sort()).toEqual([tenant.address('kate'), tenant.address('liam'), tenant.address('mona')]);
  });
});

describe('the daily notification limit', () => {
  it('suppresses notifications past the limit per policy per UTC day, and starts again the next day', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await addConversation(database, tenant.id, '19:soc@thread.tacv2', true);
    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Email sending limit exceeded', dailyNotificationLimit: 1, actor: admin });
    await exceed(tenant, 'jack', at('2026-11-26T08:00:00Z'));
    await exceed(tenant, 'kate', at('2026-11-26T09:00:00Z'));
    await exceed(tenant, 'liam', at('2026-11-26T23:59:59Z'));
    await exceed(tenant, 'jack', at('2026-11-27T00:00:01Z'));
    const byAlert = new Map((await alertsOf(database, tenant.id)).map((a) => [a.id, `${a.entityKey.split('@')[0]} ${a.firstSeenAt.toISOString().slice(0, 10)}`]));
    const rows = (await notificationsOf(database, tenant.id)).map((n) => `${byAlert.get(n.alertId)} ${n.channel} ${n.status}`);
    expect(rows.sort()).toEqual([
      'jack 2026-11-26 email Pending',
      'jack 2026-11-26 teams Pending',
      'jack 2026-11-27 email Pending',
      'jack 2026-11-27 teams Pending',
      'kate 2026-11-26 email Suppressed',
      'kate 2026-11-26 teams Suppressed',
      'liam 2026-11-26 email Suppressed',
      'liam 2026-11-26 teams Suppressed',
    ]);
  });

  it('with e-mail off, only Teams is notified', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await addConversation(database, tenant.id, '19:soc@thread.tacv2', true);
    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Email sending limit exceeded', emailEnabled: false, actor: admin });
    await exceed(tenant, 'mia', clock.now());
    expect((await notificationsOf(database, tenant.id)).map((n) => n.channel)).toEqual(['teams']);
  });
});

describe('alert status', () => {
  it('moves New → InProgress → Resolved, audited, and refuses to go back', async () => {
    const tenant = await createTestTenant(database);
    await exceed(tenant, 'noah', clock.now());
    const [alert] = await alertsOf(database, tenant.id);
    const alertId = alert?.id ?? '';
    const inProgress = await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId, status: 'InProgress', actor: admin });
    expect(inProgress).toMatchObject({ ok: true, changed: true, alert: { status: 'InProgress', statusChangedBy: 'Adele Vance' } });
    const again = await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId, status: 'InProgress', actor: admin });
    expect(again).toMatchObject({ ok: true, changed: false });
    expect(await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId, status: 'Resolved', actor: admin })).toMatchObject({ ok: true, alert: { status: 'Resolved' } });
    const back = await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId, status: 'New', actor: admin });
    expect(back.ok ? null : back.error).toBeInstanceOf(AlertStatusTransitionError);
    const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.tenantId, tenant.id), eq(auditLog.target, alertId))).orderBy(asc(auditLog.id));
    expect(audit.map((r) => [r.action, r.actorId, r.before, r.after])).toEqual([
      ['UpdateAlertStatus', admin.id, { status: 'New' }, { status: 'InProgress' }],
      ['UpdateAlertStatus', admin.id, { status: 'InProgress' }, { status: 'Resolved' }],
    ]);
  });

  it('answers a typed error for an alert of another tenant', async () => {
    const mine = await createTestTenant(database);
    const theirs = await createTestTenant(database);
    await exceed(theirs, 'olga', clock.now());
    const [alert] = await alertsOf(database, theirs.id);
    const result = await services.alerts.updateAlertStatus({ tenantId: mine.id, alertId: alert?.id ?? '', status: 'Resolved', actor: admin });
    expect(result.ok ? null : result.error).toBeInstanceOf(AlertNotFoundError);
    expect((await alertsOf(database, theirs.id))[0]?.status).toBe('New');
  });
});

describe('listing alerts', () => {
  it('filters by status, severity, kind and time, newest first, in pages', async () => {
    const tenant = await createTestTenant(database);
    await exceed(tenant, 'p1', at('2026-11-20T10:00:00Z'));
    await exceed(tenant, 'p2', at('2026-11-21T10:00:00Z'), 'SendingLimitNearlyReached');
    await exceed(tenant, 'p3', at('2026-11-22T10:00:00Z'));
    await restrict(tenant, 'p4');
    const all = await services.alertQueries.list(tenant.id, {}, { first: 10 });
    expect(all.nodes.map((a) => a.entityKey.split('@')[0])).toEqual(['p4', 'p3', 'p2', 'p1']);
    const high = await services.alertQueries.list(tenant.id, { severities: ['High'] }, {});
    expect(high.nodes.map((a) => a.kind)).toEqual(['UserRestricted']);
    const warnings = await services.alertQueries.list(tenant.id, { kinds: ['SendingLimitNearlyReached'] }, {});
    expect(warnings.nodes.map((a) => a.entityKey.split('@')[0])).toEqual(['p2']);
    const window = await services.alertQueries.list(tenant.id, { from: at('2026-11-21T00:00:00Z'), to: at('2026-11-22T23:59:59Z') }, {});
    expect(window.nodes.map((a) => a.entityKey.split('@')[0])).toEqual(['p3', 'p2']);
    await services.alerts.updateAlertStatus({ tenantId: tenant.id, alertId: all.nodes[1]?.id ?? '', status: 'Resolved', actor: admin });
    const open = await services.alertQueries.list(tenant.id, { statuses: ['New', 'InProgress'] }, {});
    expect(open.nodes.map((a) => a.entityKey.split('@')[0])).toEqual(['p4', 'p2', 'p1']);

    const page1 = await services.alertQueries.list(tenant.id, {}, { first: 3 });
    expect([page1.nodes.length, page1.totalCount, page1.hasNextPage]).toEqual([3, 4, true]);
    const page2 = await services.alertQueries.list(tenant.id, {}, { first: 3, after: page1.cursorOf(page1.nodes[2]!) });
    expect([page2.nodes.map((a) => a.entityKey.split('@')[0]), page2.hasNextPage, page2.hasPreviousPage]).toEqual([['p1'], false, true]);
    const back = await services.alertQueries.list(tenant.id, {}, { last: 2, before: page2.cursorOf(page2.nodes[0]!) });
    expect(back.nodes.map((a) => a.entityKey.split('@')[0])).toEqual(['p3', 'p2']);
    await expect(services.alertQueries.list(tenant.id, {}, { first: 1, after: 'bm9wZQ' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('the early-warning threshold', () => {
  it('alertPolicies gives the threshold warnings are raised at, after SENDGUARD_WARNING_THRESHOLD_PERCENT changed', async () => {
    // Provisioned while the threshold was 80 %; the deployment now runs with 90 %.
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 10, action: 'BlockUser' });
    const now90 = testServices(database, clock, { SENDGUARD_WARNING_THRESHOLD_PERCENT: '90' });
    for (let i = 0; i < 9; i += 1) {
      const decision = await now90.enforcement.checkRecipient({ sender: tenant.address('wes'), recipient: `r${i}@fabrikam.test`, instance: 'warning-threshold' });
      expect(decision.verdict).toBe('accept');
    }
    const warnings = await database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.type, 'SendingLimitNearlyReached')));
    expect(warnings.map((e) => e.payload)).toEqual([expect.objectContaining({ count: 9, thresholdPercent: 90 })]);
    const policy = (await now90.alertPolicies.list(tenant.id)).find((p) => p.kind === 'SendingLimitNearlyReached');
    expect(policy?.thresholdPercent).toBe(90);
    expect((await now90.alertPolicies.get(tenant.id, 'Sending limit nearly reached'))?.thresholdPercent).toBe(90);
  });
});

describe('editing alert policies', () => {
  it('changes status, e-mail, recipients and the daily limit, audited with before and after', async () => {
    const tenant = await createTestTenant(database);
    const result = await services.alertPolicies.update({
      tenantId: tenant.id,
      policy: 'Sending limit nearly reached',
      recipients: [' tenantadmins ', 'Ops@Example.org', 'ops@example.org'],
      dailyNotificationLimit: 25,
      emailEnabled: true,
      actor: admin,
    });
    expect(result).toMatchObject({ ok: true, changed: true, policy: { recipients: ['TenantAdmins', 'ops@example.org'], dailyNotificationLimit: 25, thresholdPercent: 80, severity: 'Medium' } });
    const same = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Sending limit nearly reached', dailyNotificationLimit: 25, actor: admin });
    expect(same).toMatchObject({ ok: true, changed: false });
    const unlimited = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Sending limit nearly reached', dailyNotificationLimit: null, actor: admin });
    expect(unlimited).toMatchObject({ ok: true, policy: { dailyNotificationLimit: null } });
    const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.tenantId, tenant.id), eq(auditLog.action, 'UpdateAlertPolicy'))).orderBy(asc(auditLog.id));
    expect(audit.map((r) => [r.target, r.before, r.after])).toEqual([
      ['Sending limit nearly reached', { recipients: ['TenantAdmins'], dailyNotificationLimit: null }, { recipients: ['TenantAdmins', 'ops@example.org'], dailyNotificationLimit: 25 }],
      ['Sending limit nearly reached', { dailyNotificationLimit: 25 }, { dailyNotificationLimit: null }],
    ]);
  });

  it('refuses a limit outside the list, a bad recipient, no recipients with e-mail on, and an unknown policy, changing nothing', async () => {
    const tenant = await createTestTenant(database);
    const cases = [
      { dailyNotificationLimit: 7 },
      { recipients: ['not an address'] },
      { recipients: [] },
    ];
    for (const patch of cases) {
      const result = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Email sending limit exceeded', ...patch, actor: admin });
      expect(result.ok ? null : result.error).toBeInstanceOf(ValidationError);
    }
    const unknown = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Nope', enabled: false, actor: admin });
    expect(unknown.ok ? null : unknown.error?.constructor.name).toBe('AlertPolicyNotFoundError');
    const emailOff = await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Email sending limit exceeded', emailEnabled: false, recipients: [], actor: admin });
    expect(emailOff.ok).toBe(true);
    const policies = await services.alertPolicies.list(tenant.id);
    expect(policies.map((p) => [p.name, p.severity, p.enabled, p.dailyNotificationLimit])).toEqual([
      ['Email sending limit exceeded', 'Medium', true, null],
      ['Sending limit nearly reached', 'Medium', true, null],
      ['User restricted from sending email', 'High', true, null],
    ]);
    expect(policies.map((p) => p.recipients)).toEqual([[], ['TenantAdmins'], ['TenantAdmins']]);
  });
});
