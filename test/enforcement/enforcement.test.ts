import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGroupMembers } from '../../db/repos/group-members.ts';
import { events } from '../../db/schema/events.ts';
import { restrictions } from '../../db/schema/restrictions.ts';
import { countedRecipients, sendingCounters, sendingWarnings } from '../../db/schema/sending-counters.ts';
import type { Decision } from '../../domain/enforcement/decision.ts';
import { createHistoryPruner } from '../../domain/enforcement/history-pruner.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { addPolicyWithRule, setDefaultPolicy, type PolicyLimits } from '../helpers/enforcement.ts';
import { admin, policyActor, testServices } from '../helpers/services.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

const reply = (d: Decision) => (d.verdict === 'accept' ? 'accept' : `${d.smtpCode} ${d.enhancedCode}`);

/** A tenant of its own with its policy, and the production services on a clock the test moves. */
async function setup(limits: PolicyLimits, env: Record<string, string> = {}, start = '2026-11-26T10:00:30Z') {
  const tenant = await createTestTenant(database);
  await setDefaultPolicy(database, tenant.id, limits);
  const clock = manualClock(start);
  const services = testServices(database, clock, env);
  let n = 0;
  const send = (sender: string, recipient: string, extra: { instance?: string; saslUsername?: string } = {}) =>
    services.enforcement.checkRecipient({ sender, recipient, instance: extra.instance ?? `msg-${++n}`, saslUsername: extra.saslUsername });
  /** `count` recipients of one message, external unless a domain is given. */
  const sendMany = async (sender: string, count: number, domain = 'fabrikam.test', instance = `bulk-${++n}`) => {
    const replies: string[] = [];
    for (let i = 0; i < count; i++) replies.push(reply(await send(sender, `r${n}-${i}@${domain}`, { instance })));
    return replies;
  };
  return { tenant, clock, services, send, sendMany };
}

async function restrictionsOf(tenant: TestTenant) {
  return database.db.select().from(restrictions).where(eq(restrictions.tenantId, tenant.id)).orderBy(asc(restrictions.createdAt));
}

async function eventsOf(tenant: TestTenant, type: string) {
  return database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.type, type))).orderBy(asc(events.id));
}

describe('counting recipients', () => {
  it('counts internal recipients (accepted domains and their subdomains) apart from external ones', async () => {
    const { tenant, services, send } = await setup({});
    const ann = tenant.address('ann');
    for (const to of [tenant.address('bob'), `carol@eu.${tenant.domain}`, 'dan@fabrikam.test', `eve@bad${tenant.domain}`]) {
      expect(reply(await send(ann, to))).toBe('accept');
    }
    const activity = await services.enforcement.getSenderActivity(tenant.id, ann);
    expect(activity.counts).toMatchObject({ internalLastHour: 2, externalLastHour: 2, internalLast24Hours: 2, externalLast24Hours: 2 });
  });

  it('counts a retried request (same instance and recipient) once', async () => {
    const { tenant, services, send } = await setup({});
    const ann = tenant.address('ann');
    expect((await send(ann, 'x@fabrikam.test', { instance: 'i-1' })).reason).toBe('accepted');
    expect((await send(ann, 'x@fabrikam.test', { instance: 'i-1' })).reason).toBe('duplicate');
    expect((await send(ann, 'y@fabrikam.test', { instance: 'i-1' })).reason).toBe('accepted');
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLastHour).toBe(2);
  });

  it('counts and restricts the SASL user, under the policy of the sender address', async () => {
    const { tenant, send } = await setup({ externalPerHour: 100, action: 'BlockUser' });
    const boss = tenant.address('boss');
    await addPolicyWithRule(database, tenant.id, { name: 'Executives', priority: 0, from: [boss], externalPerHour: 2, action: 'BlockUser' });
    const asDelegate = (to: string) => send(boss, to, { saslUsername: 'Delegate@' + tenant.domain });
    expect([reply(await asDelegate('a@fabrikam.test')), reply(await asDelegate('b@fabrikam.test')), reply(await asDelegate('c@fabrikam.test'))]).toEqual([
      'accept',
      'accept',
      '550 5.1.8',
    ]);
    const [restriction] = await restrictionsOf(tenant);
    expect(restriction).toMatchObject({ entityKey: tenant.address('delegate'), policyName: 'Executives', limitValue: 2 });
    // The boss sending for themselves is counted separately and is not restricted.
    expect(reply(await send(boss, 'd@fabrikam.test'))).toBe('accept');
  });

  it('applies a rule that selects senders by group membership', async () => {
    const { tenant, send } = await setup({ externalPerHour: 100 });
    await addGroupMembers(database.db, tenant.id, tenant.address('sales'), [tenant.address('ann')]);
    await addPolicyWithRule(database, tenant.id, { name: 'Sales', priority: 0, fromMemberOf: [tenant.address('sales')], externalPerHour: 1, action: 'BlockUser' });
    expect([reply(await send(tenant.address('ann'), 'a@fabrikam.test')), reply(await send(tenant.address('ann'), 'b@fabrikam.test'))]).toEqual(['accept', '550 5.1.8']);
    expect([reply(await send(tenant.address('bob'), 'a@fabrikam.test')), reply(await send(tenant.address('bob'), 'b@fabrikam.test'))]).toEqual(['accept', 'accept']);
  });
});

describe('counting concurrent recipients in batches', () => {
  // Requests that arrive while the database is busy go together in one call: each is still
  // decided on its own, in order, and a retried one is still counted once.
  for (const commit of ['durable', 'fast'] as const) {
    it(`SENDGUARD_POLICY_COMMIT=${commit}: 60 senders at once, exactly their limit each, one restriction each, duplicates counted once`, async () => {
      // 540 requests at once: on a loaded machine some may wait past the default 3 s deadline, which is not what this checks.
      const { tenant, services } = await setup({ externalPerHour: 5, action: 'BlockUser' }, { SENDGUARD_POLICY_COMMIT: commit, SENDGUARD_POLICY_TIMEOUT_MS: '60000' });
      const senders = Array.from({ length: 60 }, (_, i) => tenant.address(`s${i}`));
      const checks = senders.flatMap((sender) =>
        Array.from({ length: 8 }, (_, k) => ({ sender, recipient: `r${k}@fabrikam.test`, instance: `${sender}-msg` })),
      );
      // Every first recipient asked twice (a retried policy request).
      const all = [...checks, ...checks.filter((c) => c.recipient.startsWith('r0@'))];
      const decisions = await Promise.all(all.map((c) => services.enforcement.checkRecipient(c)));
      const acceptedBySender = new Map<string, number>();
      decisions.forEach((d, i) => {
        if (d.verdict === 'accept' && d.reason !== 'duplicate') acceptedBySender.set(all[i]!.sender, (acceptedBySender.get(all[i]!.sender) ?? 0) + 1);
      });
      expect([...acceptedBySender.values()]).toEqual(senders.map(() => 5));
      expect(decisions.filter((d) => d.verdict !== 'accept').every((d) => reply(d) === '550 5.1.8')).toBe(true);
      const rows = await restrictionsOf(tenant);
      expect(rows.map((r) => r.entityKey).sort()).toEqual([...senders].sort());
      const counted = await database.db.select().from(countedRecipients).where(eq(countedRecipients.tenantId, tenant.id));
      expect(counted).toHaveLength(60 * 5);
    });
  }
});

describe('crossing a policy limit', () => {
  it('BlockUser: refuses the crossing recipient with 5.1.8 and every later one, restricted until released', async () => {
    const { tenant, services, send, sendMany } = await setup({ externalPerHour: 3, action: 'BlockUser' });
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 4)).toEqual(['accept', 'accept', 'accept', '550 5.1.8']);
    const refused = await send(ann, tenant.address('bob'));
    expect(refused).toMatchObject({ smtpCode: 550, enhancedCode: '5.1.8', text: 'Access denied, bad outbound sender', reason: 'restricted' });
    const [restriction, ...more] = await restrictionsOf(tenant);
    expect(more).toHaveLength(0);
    expect(restriction).toMatchObject({
      entityKey: ann,
      reasonCode: 'SendingLimitExceeded',
      exceededLimit: 'RecipientLimitExternalPerHour',
      limitValue: 3,
      internalRecipientCount: 0,
      externalRecipientCount: 3,
      lastMessageRecipientCount: 4,
      policyName: 'Default',
      action: 'BlockUser',
      temporary: false,
      expiresAt: null,
      createdBy: policyActor.name,
    });
    const [event] = await eventsOf(tenant, 'UserRestricted');
    expect(event?.payload).toMatchObject({ entityKey: ann, exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 3, externalRecipientCount: 3, policyName: 'Default' });

    const released = await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reason: 'checked', acknowledgedRecommendations: [], actor: admin });
    expect(released.ok).toBe(true);
    services.enforcement.invalidate();
    // Released by an admin: the same counts do not restrict again today.
    expect(await sendMany(ann, 2)).toEqual(['accept', 'accept']);
  });

  it('BlockUserForToday: a temporary restriction until 00:00 UTC, then sending resumes', async () => {
    const { tenant, clock, send } = await setup({ perDay: 2, action: 'BlockUserForToday' });
    const ann = tenant.address('ann');
    expect([reply(await send(ann, tenant.address('x'))), reply(await send(ann, 'y@fabrikam.test')), reply(await send(ann, 'z@fabrikam.test'))]).toEqual([
      'accept',
      'accept',
      '550 5.1.8',
    ]);
    const [restriction] = await restrictionsOf(tenant);
    expect(restriction).toMatchObject({ exceededLimit: 'RecipientLimitPerDay', internalRecipientCount: 1, externalRecipientCount: 1, temporary: true });
    expect(restriction?.expiresAt?.toISOString()).toBe('2026-11-27T00:00:00.000Z');
    clock.set('2026-11-27T10:01:00Z');
    expect(reply(await send(ann, 'w@fabrikam.test'))).toBe('accept');
  });

  it('BlockUserForToday: the counts that caused the block do not restrict again when it ends at midnight', async () => {
    const { tenant, clock, sendMany } = await setup({ externalPerHour: 2, action: 'BlockUserForToday' }, {}, '2026-11-26T23:50:30Z');
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    clock.set('2026-11-27T00:00:30Z');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    const rows = await restrictionsOf(tenant);
    expect(rows.map((r) => r.expiresAt?.toISOString())).toEqual(['2026-11-27T00:00:00.000Z', '2026-11-28T00:00:00.000Z']);
  });

  it('BlockUser: after a release the old counts do not restrict again the next day, new ones do', async () => {
    const { tenant, clock, services, sendMany } = await setup({ perDay: 2, action: 'BlockUser' }, {}, '2026-11-26T15:00:30Z');
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    clock.set('2026-11-26T16:00:30Z');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reason: 'reset', acknowledgedRecommendations: [], actor: admin });
    clock.set('2026-11-27T00:01:30Z');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    const { counts, usage } = await services.enforcement.getSenderActivity(tenant.id, ann);
    expect(counts).toMatchObject({ externalLast24Hours: 2, allLast24Hours: 4 });
    expect(counts.countedSince?.toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(usage.find((u) => u.limit === 'ServiceRecipientsPerDay')?.count).toBe(4);
  });

  it('BlockUser: released in the minute it was restricted, the counts that led to it do not restrict again the next day', async () => {
    const { tenant, clock, services, sendMany } = await setup({ perDay: 2, action: 'BlockUser' }, {}, '2026-11-26T15:00:10Z');
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    clock.set('2026-11-26T15:00:40Z');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reason: 'quick', acknowledgedRecommendations: [], actor: admin });
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts).toMatchObject({ externalLast24Hours: 0, allLast24Hours: 2 });
    clock.set('2026-11-27T00:01:30Z');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    const { counts } = await services.enforcement.getSenderActivity(tenant.id, ann);
    expect(counts).toMatchObject({ externalLast24Hours: 2, allLast24Hours: 4 });
    expect(counts.countedSince?.toISOString()).toBe('2026-11-26T15:01:00.000Z');
  });

  it('Alert: accepts over the limit, appends one SendingLimitExceeded event and restricts no one', async () => {
    const { tenant, send, sendMany } = await setup({ internalPerHour: 2, action: 'Alert' });
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 4, tenant.domain)).toEqual(['accept', 'accept', 'accept', 'accept']);
    expect((await send(ann, tenant.address('late'))).reason).toBe('over-limit-alert');
    expect(await restrictionsOf(tenant)).toHaveLength(0);
    const exceeded = await eventsOf(tenant, 'SendingLimitExceeded');
    expect(exceeded.map((e) => [e.entityKind, e.entityKey, e.payload])).toEqual([
      ['user', ann, { sender: ann, limit: 'RecipientLimitInternalPerHour', limitValue: 2, count: 3, internalRecipientCount: 3, externalRecipientCount: 0, policyName: 'Default' }],
    ]);
  });

  it('warns once when a count passes the warning threshold of a limit', async () => {
    const { tenant, sendMany } = await setup({ externalPerHour: 10, action: 'BlockUser' }, { SENDGUARD_WARNING_THRESHOLD_PERCENT: '80' });
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 7)).toEqual(Array(7).fill('accept'));
    expect(await eventsOf(tenant, 'SendingLimitNearlyReached')).toHaveLength(0);
    expect(await sendMany(ann, 2)).toEqual(['accept', 'accept']);
    const warnings = await eventsOf(tenant, 'SendingLimitNearlyReached');
    expect(warnings.map((e) => e.payload)).toEqual([
      { sender: ann, limit: 'RecipientLimitExternalPerHour', limitValue: 10, count: 8, internalRecipientCount: 0, externalRecipientCount: 8, policyName: 'Default', thresholdPercent: 80 },
    ]);
    const rows = await database.db.select().from(sendingWarnings).where(eq(sendingWarnings.tenantId, tenant.id));
    expect(rows.map((r) => [r.sender, r.limitType, r.windowStart.toISOString()])).toEqual([[ann, 'RecipientLimitExternalPerHour', '2026-11-26T10:00:00.000Z']]);
  });
});

describe('service limits', () => {
  it('the rolling 24-hour service limit refuses with a self-clearing 5.2.0 and lists the sender until the window frees', async () => {
    const { tenant, clock, sendMany, send } = await setup({ externalPerHour: 1000, perDay: 1000 }, { SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: '5' });
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 2)).toEqual(['accept', 'accept']);
    clock.set('2026-11-26T10:10:30Z');
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', 'accept']);
    clock.set('2026-11-26T10:20:30Z');
    const refused = await send(ann, 'over@fabrikam.test');
    expect(refused).toMatchObject({ verdict: 'reject', smtpCode: 550, enhancedCode: '5.2.0', reason: 'service-limit' });
    expect(refused.text).toContain('clears by itself at 2026-11-27T10:00Z');
    const [restriction] = await restrictionsOf(tenant);
    expect(restriction).toMatchObject({ reasonCode: 'ServiceRecipientLimit', exceededLimit: 'ServiceRecipientsPerDay', limitValue: 5, temporary: true, externalRecipientCount: 5 });
    expect(restriction?.expiresAt?.toISOString()).toBe('2026-11-27T10:00:00.000Z');
    expect(restriction?.details).toContain('clears by itself');
    expect(reply(await send(ann, 'again@fabrikam.test'))).toBe('550 5.2.0');
    clock.set('2026-11-27T10:00:30Z');
    expect(reply(await send(ann, 'later@fabrikam.test'))).toBe('accept');
  });

  it('more recipients than allowed per message: 452 4.5.3, without restricting', async () => {
    const { tenant, sendMany } = await setup({}, { SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE: '3' });
    const ann = tenant.address('ann');
    expect(await sendMany(ann, 5)).toEqual(['accept', 'accept', 'accept', '452 4.5.3', '452 4.5.3']);
    expect(await sendMany(ann, 1)).toEqual(['accept']);
    expect(await restrictionsOf(tenant)).toHaveLength(0);
  });

  it('more messages per minute than allowed: 451 4.7.0, without restricting', async () => {
    const { tenant, clock, send } = await setup({}, { SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: '2' });
    const ann = tenant.address('ann');
    const message = async (instance: string) => reply(await send(ann, `${instance}@fabrikam.test`, { instance }));
    expect([await message('m1'), await message('m2'), await message('m3')]).toEqual(['accept', 'accept', '451 4.7.0']);
    expect((await send(ann, 'second@fabrikam.test', { instance: 'm2' })).reason).toBe('accepted');
    clock.advance(60_000);
    expect(await message('m4')).toBe('accept');
    expect(await restrictionsOf(tenant)).toHaveLength(0);
  });
});

describe('restricted senders', () => {
  it('mail to a restricted user is accepted, from inside and outside the tenant', async () => {
    const { tenant, services, send } = await setup({});
    const ann = tenant.address('ann');
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    expect(reply(await send(ann, 'x@fabrikam.test'))).toBe('550 5.1.8');
    expect(reply(await send(tenant.address('bob'), ann))).toBe('accept');
    expect(await send('someone@fabrikam.test', ann)).toMatchObject({ verdict: 'accept', reason: 'unknown-sender' });
  });

  it('honours a release within the restriction cache time even when no notification arrives', async () => {
    const { tenant, clock, services, send } = await setup({}, { SENDGUARD_RESTRICTION_CACHE_MS: '500' });
    const ann = tenant.address('ann');
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    expect(reply(await send(ann, 'x@fabrikam.test'))).toBe('550 5.1.8');
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reason: 'ok', acknowledgedRecommendations: [], actor: admin });
    // The event bus is not running here: only the cache's age bound can let the sender through.
    clock.advance(500);
    expect(reply(await send(ann, 'y@fabrikam.test'))).toBe('accept');
  });

  it('refuses a restricted sender at MAIL FROM and a sender of another tenant for an authenticated submitter', async () => {
    const { tenant, services } = await setup({});
    const ann = tenant.address('ann');
    expect((await services.enforcement.checkSender({ sender: ann })).verdict).toBe('accept');
    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: ann, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    expect(reply(await services.enforcement.checkSender({ sender: ann }))).toBe('550 5.1.8');
    expect(reply(await services.enforcement.checkSender({ sender: tenant.address('bob'), authenticatedTenantId: 'another-tenant' }))).toBe('550 5.7.60');
    expect(reply(await services.enforcement.checkSender({ sender: '' }))).toBe('accept');
  });

  it('counts and restricts a SASL login whatever the envelope sender: null, of no tenant, of another tenant', async () => {
    const { tenant, services, send } = await setup({});
    const other = await createTestTenant(database);
    const scanner = tenant.address('scanner');
    const asScanner = (sender: string, to: string) => send(sender, to, { saslUsername: 'Scanner@' + tenant.domain });
    for (const [sender, to] of [['', 'a@fabrikam.test'], ['spam@nowhere.test', 'b@fabrikam.test'], [other.address('x'), 'c@fabrikam.test']] as const) {
      expect(reply(await asScanner(sender, to))).toBe('accept');
    }
    expect((await services.enforcement.getSenderActivity(tenant.id, scanner)).counts.externalLastHour).toBe(3);
    expect((await services.enforcement.getSenderActivity(other.id, other.address('x'))).counts.externalLastHour).toBe(0);

    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: scanner, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    // The event bus is not running here: drop the quota lease its UserRestricted event would recall.
    services.enforcement.invalidate(tenant.id);
    for (const sender of ['', 'spam@nowhere.test', other.address('x'), tenant.address('ann')]) {
      expect(reply(await asScanner(sender, 'd@fabrikam.test'))).toBe('550 5.1.8');
    }
    // Without a login, a null sender and a sender of no tenant are not ours to judge.
    expect(await send('', 'e@fabrikam.test')).toMatchObject({ verdict: 'accept', reason: 'not-outbound' });
    expect(await send('spam@nowhere.test', 'e@fabrikam.test')).toMatchObject({ verdict: 'accept', reason: 'unknown-sender' });
  });

  it('takes a SASL login without a domain as a user of the login domain, so a null or foreign sender cannot send around its restriction', async () => {
    const tenant = await createTestTenant(database);
    const { services, send } = await setup({}, { SENDGUARD_SASL_LOGIN_DOMAIN: tenant.domain.toUpperCase() });
    const other = await createTestTenant(database);
    const alice = tenant.address('alice');
    const asAlice = (sender: string, to: string) => send(sender, to, { saslUsername: ' Alice ' });
    for (const [sender, to] of [['', 'a@fabrikam.test'], ['spam@nowhere.test', 'b@fabrikam.test'], [other.address('x'), 'c@fabrikam.test'], [alice, 'd@fabrikam.test']] as const) {
      expect(reply(await asAlice(sender, to))).toBe('accept');
    }
    expect((await services.enforcement.getSenderActivity(tenant.id, alice)).counts.externalLastHour).toBe(4);
    expect((await services.enforcement.getSenderActivity(other.id, other.address('x'))).counts.externalLastHour).toBe(0);

    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: alice, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    services.enforcement.invalidate(tenant.id);
    for (const sender of ['', 'spam@nowhere.test', other.address('x'), alice]) {
      expect(reply(await asAlice(sender, 'e@fabrikam.test'))).toBe('550 5.1.8');
    }
    // A login with a domain keeps it.
    expect(reply(await send('', 'f@fabrikam.test', { saslUsername: other.address('bob') }))).toBe('accept');
    expect((await services.enforcement.getSenderActivity(other.id, other.address('bob'))).counts.externalLastHour).toBe(1);
  });

  it('holds a relay client to its tenant and its user name: a null sender is counted as the user, a sender of no tenant is refused', async () => {
    const { tenant, services } = await setup({});
    const scanner = tenant.address('scanner');
    const relayed = { saslUsername: scanner, authenticatedTenantId: tenant.id, via: 'smtp' as const };
    expect(reply(await services.enforcement.checkSender({ ...relayed, sender: 'spam@nowhere.test' }))).toBe('550 5.7.60');
    expect(reply(await services.enforcement.checkRecipient({ ...relayed, sender: 'spam@nowhere.test', recipient: 'a@fabrikam.test' }))).toBe('550 5.7.60');
    expect(reply(await services.enforcement.checkSender({ ...relayed, sender: '' }))).toBe('accept');
    expect(reply(await services.enforcement.checkRecipient({ ...relayed, sender: '', recipient: 'b@fabrikam.test', instance: 'receipt' }))).toBe('accept');
    expect((await services.enforcement.getSenderActivity(tenant.id, scanner)).counts.externalLastHour).toBe(1);

    await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: scanner, reasonCode: 'ManualBlock', temporary: false, actor: admin });
    expect(reply(await services.enforcement.checkSender({ ...relayed, sender: '' }))).toBe('550 5.1.8');
    expect(reply(await services.enforcement.checkRecipient({ ...relayed, sender: '', recipient: 'c@fabrikam.test' }))).toBe('550 5.1.8');
  });

  it('refuses senders of unregistered domains with 5.7.750 when configured to', async () => {
    const { services } = await setup({}, { SENDGUARD_POLICY_UNKNOWN_SENDER_ACTION: 'reject' });
    expect(await services.enforcement.checkRecipient({ sender: 'x@nowhere.test', recipient: 'y@nowhere.test' })).toMatchObject({ smtpCode: 550, enhancedCode: '5.7.750' });
  });
});

describe('counting history', () => {
  it('is pruned once no window reads it any more', async () => {
    const { tenant, clock, services, send } = await setup({});
    const ann = tenant.address('ann');
    const pruner = createHistoryPruner({ db: database.db, clock });
    await send(ann, 'old@fabrikam.test', { instance: 'old-message' });
    clock.advance(26 * 3_600_000);
    await send(ann, 'new@fabrikam.test', { instance: 'new-message' });
    await pruner.runOnce();
    // A quota lease's unused part is in the counters until it is given back.
    services.enforcement.invalidate();
    await services.enforcement.flushLeases();
    const buckets = await database.db.select().from(sendingCounters).where(eq(sendingCounters.tenantId, tenant.id));
    expect(buckets.map((b) => b.external)).toEqual([1]);
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts.externalLast24Hours).toBe(1);
    clock.advance(24 * 3_600_000);
    await pruner.runOnce();
    const remembered = await database.db.select().from(countedRecipients).where(eq(countedRecipients.tenantId, tenant.id));
    expect(remembered.map((r) => r.instance)).toEqual(['new-message']);
  });
});

describe('sender activity', () => {
  it('shows counts per window against the limits that apply, which policy and why, and the restriction', async () => {
    const { tenant, services, sendMany } = await setup({ externalPerHour: 5, action: 'BlockUser' });
    const ann = tenant.address('ann');
    await addPolicyWithRule(database, tenant.id, { name: 'Domain', priority: 0, senderDomainIs: [tenant.domain], externalPerHour: 2, action: 'BlockUser' });
    expect(await sendMany(ann, 3)).toEqual(['accept', 'accept', '550 5.1.8']);
    const activity = await services.enforcement.getSenderActivity(tenant.id, ann.toUpperCase());
    expect(activity).toMatchObject({
      sender: ann,
      policy: { name: 'Domain', isDefault: false, action: 'BlockUser' },
      rule: { name: 'Domain rule', priority: 0 },
      matchedConditions: [{ kind: 'senderDomainIs', value: tenant.domain }],
      appliesBecause: `Rule "Domain rule" (priority 0) selects policy "Domain" because the sender matches senderDomainIs ${tenant.domain}.`,
      counts: { externalLastHour: 2, internalLastHour: 0, messagesThisMinute: 1 },
      restricted: true,
      restriction: { entityKey: ann, policyName: 'Domain' },
    });
    expect(activity.usage.find((u) => u.limit === 'RecipientLimitExternalPerHour')).toEqual({ limit: 'RecipientLimitExternalPerHour', value: 2, count: 2, serviceDefault: false });
    expect(activity.usage.find((u) => u.limit === 'RecipientLimitInternalPerHour')).toEqual({ limit: 'RecipientLimitInternalPerHour', value: 10_000, count: 0, serviceDefault: true });
  });
});
