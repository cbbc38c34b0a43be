import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit-log.ts';
import { events } from '../../db/schema/events.ts';
import { releases, restrictions } from '../../db/schema/restrictions.ts';
import { toBlockedSenderAddress } from '../../domain/restrictions/exchange-view.ts';
import { NotRestrictedError, UnblockQuotaExceededError, ValidationError } from '../../domain/restrictions/errors.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, needsPostgres, onPostgres, type TestDatabase } from '../helpers/db.ts';
import { admin, policyActor, testServices } from '../helpers/services.ts';

let database: TestDatabase;
const clock = manualClock('2026-11-26T10:00:00Z');
let services: ReturnType<typeof testServices>;

beforeAll(async () => {
  database = await createTestDatabase({ maxConnections: 25 });
  services = testServices(database, clock);
});
afterAll(async () => database.close());

function limitRestriction(tenantId: string, address: string, temporary = false) {
  return {
    tenantId,
    entityKind: 'user' as const,
    entityKey: address,
    reasonCode: 'SendingLimitExceeded' as const,
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    internalRecipientCount: 12,
    externalRecipientCount: 100,
    lastMessageRecipientCount: 7,
    policy: { id: null, name: 'Default', action: temporary ? 'BlockUserForToday' : 'BlockUser' },
    temporary,
    expiresAt: temporary ? new Date('2026-11-27T00:00:00Z') : null,
    actor: policyActor,
  };
}

const release = (tenantId: string, address: string) =>
  services.unblock.release({ tenantId, entityKind: 'user', entityKey: address, reason: 'password reset, MFA on', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'], actor: admin });

async function rowsFor(tenantId: string, target: string) {
  const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.tenantId, tenantId), eq(auditLog.target, target))).orderBy(asc(auditLog.id));
  const evts = await database.db.select().from(events).where(and(eq(events.tenantId, tenantId), eq(events.entityKey, target))).orderBy(asc(events.id));
  const rels = await database.db.select().from(releases).where(and(eq(releases.tenantId, tenantId), eq(releases.entityKey, target)));
  return { audit, events: evts, releases: rels };
}

describe('restricting', () => {
  it('records the restriction with its audit record and event, and lower-cases the address', async () => {
    const tenant = await createTestTenant(database);
    const { restriction, created } = await services.restrictions.restrict(limitRestriction(tenant.id, 'Alice@' + tenant.domain.toUpperCase()));
    expect(created).toBe(true);
    expect(restriction).toMatchObject({ entityKey: tenant.address('alice'), status: 'Restricted', reasonCode: 'SendingLimitExceeded', limitValue: 100 });
    const rows = await rowsFor(tenant.id, tenant.address('alice'));
    expect(rows.audit.map((a) => a.action)).toEqual(['Listed']);
    expect(rows.events.map((e) => e.type)).toEqual(['UserRestricted']);
    expect(rows.events[0]?.payload).toMatchObject({ restrictionId: restriction.id, exceededLimit: 'RecipientLimitExternalPerHour', externalRecipientCount: 100 });
  });

  it('a second restrict of a restricted user writes nothing', async () => {
    const tenant = await createTestTenant(database);
    const first = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('bob')));
    const second = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('bob')));
    expect(second).toEqual({ restriction: first.restriction, created: false, extended: false });
    expect((await rowsFor(tenant.id, tenant.address('bob'))).audit).toHaveLength(1);
  });

  it.skipIf(!onPostgres)(`50 concurrent restricts of one user leave exactly one active restriction (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    const results = await Promise.all(Array.from({ length: 50 }, () => services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('carol')))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.restriction.id)).size).toBe(1);
    const active = await database.db.select().from(restrictions).where(and(eq(restrictions.tenantId, tenant.id), eq(restrictions.status, 'Restricted')));
    expect(active).toHaveLength(1);
    const rows = await rowsFor(tenant.id, tenant.address('carol'));
    expect([rows.audit.length, rows.events.length]).toEqual([1, 1]);
  });

  it.skipIf(!onPostgres)(`20 concurrent manual blocks of a user restricted for today extend its restriction once (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    const address = tenant.address('dave');
    await services.restrictions.restrict(limitRestriction(tenant.id, address, true));
    const block = { ...limitRestriction(tenant.id, address), reasonCode: 'SuspectedCompromise' as const, actor: admin, extend: true };
    const results = await Promise.all(Array.from({ length: 20 }, () => services.restrictions.restrict(block)));
    expect(results.filter((r) => r.extended)).toHaveLength(1);
    expect(results.map((r) => [r.created, r.restriction.expiresAt, r.restriction.temporary])).toEqual(Array(20).fill([false, null, false]));
    const rows = await rowsFor(tenant.id, address);
    expect(rows.audit.map((a) => `${a.action}:${a.actorId}`)).toEqual(['Listed:system:policy', 'Listed:oid-admin-1']);
    expect(rows.events.map((e) => e.type)).toEqual(['UserRestricted', 'UserRestricted']);
  });

  it('the database itself refuses a second active restriction for one entity', async () => {
    const tenant = await createTestTenant(database);
    const { restriction } = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('dave')));
    const { id: _id, ...copy } = restriction;
    await expect(database.db.insert(restrictions).values(copy)).rejects.toThrow();
  });
});

describe('releasing', () => {
  it('records actor, reason and recommendations, and answers NotRestricted the second time with nothing written', async () => {
    const tenant = await createTestTenant(database);
    const address = tenant.address('erin');
    await services.restrictions.restrict(limitRestriction(tenant.id, address));
    const first = await release(tenant.id, address);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.restriction).toMatchObject({ status: 'Released', releasedBy: 'Adele Vance', releaseReason: 'password reset, MFA on' });
    expect(first.release).toMatchObject({ actorId: admin.id, acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] });
    expect(first.release.limitExemptUntil?.toISOString()).toBe('2026-11-27T00:00:00.000Z');
    const second = await release(tenant.id, address);
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.error).toBeInstanceOf(NotRestrictedError);
    expect(second.error).toMatchObject({ entityKey: address, lastRestrictionId: first.restriction.id });
    const rows = await rowsFor(tenant.id, address);
    expect(rows.audit.map((a) => a.action)).toEqual(['Listed', 'Delisted']);
    expect(rows.events.map((e) => e.type)).toEqual(['UserRestricted', 'UserReleased']);
    expect(rows.releases).toHaveLength(1);
  });

  it('refuses an unknown recommendation and changes nothing', async () => {
    const tenant = await createTestTenant(database);
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('frank')));
    const result = await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('frank'), reason: '', acknowledgedRecommendations: ['PRAY'], actor: admin });
    expect(result.ok ? null : result.error).toBeInstanceOf(ValidationError);
    expect((await rowsFor(tenant.id, tenant.address('frank'))).releases).toHaveLength(0);
  });

  it.skipIf(!onPostgres)(`50 concurrent releases give one release, one audit row and one event (${needsPostgres})`, async () => {
    const tenant = await createTestTenant(database);
    const address = tenant.address('gina');
    await services.restrictions.restrict(limitRestriction(tenant.id, address));
    const results = await Promise.all(Array.from({ length: 50 }, () => release(tenant.id, address)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error instanceof NotRestrictedError)).toHaveLength(49);
    const rows = await rowsFor(tenant.id, address);
    expect(rows.releases).toHaveLength(1);
    expect(rows.audit.filter((a) => a.action === 'Delisted')).toHaveLength(1);
    expect(rows.events.filter((e) => e.type === 'UserReleased')).toHaveLength(1);
  });

  it('enforces the unblock quota with a typed error that says the count, the window and when it resets', async () => {
    const tenant = await createTestTenant(database);
    const address = tenant.address('hank');
    const times = ['2026-11-01T08:00:00Z', '2026-11-10T08:00:00Z', '2026-11-20T08:00:00Z'];
    for (const at of times) {
      clock.set(at);
      await services.restrictions.restrict(limitRestriction(tenant.id, address));
      expect((await release(tenant.id, address)).ok).toBe(true);
    }
    clock.set('2026-11-26T10:00:00Z');
    await services.restrictions.restrict(limitRestriction(tenant.id, address));
    const refused = await release(tenant.id, address);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error).toBeInstanceOf(UnblockQuotaExceededError);
    expect(refused.error).toMatchObject({ releaseCount: 3, maxReleases: 3, windowDays: 30, resetsAt: new Date('2026-12-01T08:00:00Z') });
    expect(refused.error.message).toBe(
      `${address} was released 3 times in the last 30 days (at most 3); the next release is possible at 2026-12-01T08:00:00.000Z`,
    );
    clock.set('2026-12-01T08:00:01Z');
    expect((await release(tenant.id, address)).ok).toBe(true);
    clock.set('2026-11-26T10:00:00Z');
  });
});

describe('expiry of BlockUserForToday', () => {
  it('releases automatically at 00:00 UTC of the next day, not before', async () => {
    const tenant = await createTestTenant(database);
    const address = tenant.address('ivy');
    clock.set('2026-11-26T23:59:00Z');
    await services.restrictions.restrict(limitRestriction(tenant.id, address, true));
    await services.expiry.runOnce();
    expect((await services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
    clock.set('2026-11-27T00:00:00Z');
    expect(await services.expiry.runOnce()).toBeGreaterThanOrEqual(1);
    const after = await services.restrictionQueries.latest(tenant.id, 'user', address);
    expect(after).toMatchObject({ status: 'Expired', changedAt: new Date('2026-11-27T00:00:00Z') });
    const rows = await rowsFor(tenant.id, address);
    expect(rows.events.map((e) => e.type)).toEqual(['UserRestricted', 'RestrictionExpired']);
    expect(rows.audit.map((a) => a.action)).toEqual(['Listed', 'Delisted']);
    clock.set('2026-11-26T10:00:00Z');
  });

  it('is recorded as the scheduler’s at the block’s end, however late it is found: by the sweep, a release or a new restriction', async () => {
    const tenant = await createTestTenant(database);
    const [swept, released, restricted] = ['sweep', 'rel', 'res'].map((n) => tenant.address(n)) as [string, string, string];
    clock.set('2026-11-26T23:00:00Z');
    for (const address of [swept, released, restricted]) await services.restrictions.restrict(limitRestriction(tenant.id, address, true));
    clock.set('2026-11-27T00:07:00Z');
    // Found by an admin's release, which is refused, and by a new restriction, before the sweep runs.
    expect(await release(tenant.id, released)).toMatchObject({ ok: false, error: expect.any(NotRestrictedError) });
    await services.restrictions.restrict({ ...limitRestriction(tenant.id, restricted, false), actor: admin });
    await services.expiry.runOnce();
    for (const address of [swept, released, restricted]) {
      const rows = await rowsFor(tenant.id, address);
      const expiry = rows.audit.find((a) => (a.details as { event?: string }).event === 'RestrictionExpired');
      expect(expiry, address).toMatchObject({ action: 'Delisted', actorId: 'system:scheduler', source: 'scheduler', occurredAt: new Date('2026-11-27T00:00:00Z') });
      expect(expiry?.after, address).toMatchObject({ status: 'Expired', changedAt: '2026-11-27T00:00:00.000Z', releasedAt: '2026-11-27T00:00:00.000Z' });
      expect(rows.events.find((e) => e.type === 'RestrictionExpired')?.payload, address).toMatchObject({ actorId: 'system:scheduler' });
    }
    clock.set('2026-11-26T10:00:00Z');
  });
});

describe('listing and the Exchange view', () => {
  it('searches by address substring with keyset pages and a total, stable while rows are added', async () => {
    const tenant = await createTestTenant(database);
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address(`user${i}`)));
    }
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('other')));
    const order = { field: 'createdAt' as const, descending: true };
    const page1 = await services.restrictionQueries.list(tenant.id, 'user', { search: 'USER' }, order, { first: 3 });
    expect(page1.totalCount).toBe(7);
    expect(page1.nodes.map((r) => r.entityKey.split('@')[0])).toEqual(['user6', 'user5', 'user4']);
    expect(page1.hasNextPage).toBe(true);
    clock.advance(1000);
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('user7')));
    const page2 = await services.restrictionQueries.list(tenant.id, 'user', { search: 'user' }, order, { first: 3, after: page1.cursorOf(page1.nodes.at(-1)!) });
    expect(page2.nodes.map((r) => r.entityKey.split('@')[0])).toEqual(['user3', 'user2', 'user1']);
    // The first page counts in its own scan, a later page separately: both count every match.
    expect(page2.totalCount).toBe(8);
    expect((await services.restrictionQueries.list(tenant.id, 'user', { search: 'user' }, order, { first: 3 })).totalCount).toBe(8);
    expect((await services.restrictionQueries.list(tenant.id, 'user', { search: 'user' }, order, { last: 2 })).nodes.map((r) => r.entityKey.split('@')[0])).toEqual(['user1', 'user0']);
    const none = await services.restrictionQueries.list(tenant.id, 'user', { search: 'nobody' }, order, { first: 3 });
    expect([none.nodes, none.totalCount, none.hasNextPage]).toEqual([[], 0, false]);
    const back = await services.restrictionQueries.list(tenant.id, 'user', { search: 'user' }, order, { last: 2, before: page2.cursorOf(page2.nodes[0]!) });
    expect(back.nodes.map((r) => r.entityKey.split('@')[0])).toEqual(['user5', 'user4']);
    await expect(services.restrictionQueries.list(tenant.id, 'user', {}, order, { first: 101 })).rejects.toThrow(ValidationError);
    await expect(services.restrictionQueries.list(tenant.id, 'user', {}, order, { first: 1, after: 'garbage' })).rejects.toThrow('the cursor is not one this API issued');
  });

  it('gives the Get-BlockedSenderAddress shape', async () => {
    const tenant = await createTestTenant(database);
    const { restriction } = await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('jay'), true));
    expect(toBlockedSenderAddress(restriction)).toEqual({
      SenderAddress: tenant.address('jay'),
      Reason: 'EmailSendingLimitExceeded;InternalRecipientCountToday=12;ExternalRecipientCountToday=100;ExceedingLimitType=External;LastMessageRcptCount=7',
      CreatedDatetime: restriction.createdAt.toISOString(),
      ChangedDatetime: restriction.changedAt.toISOString(),
      TemporaryBlock: true,
    });
  });
});

describe('the audit log', () => {
  it('cannot be changed or deleted', async () => {
    const tenant = await createTestTenant(database);
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('kim')));
    await expect(database.db.update(auditLog).set({ actorName: 'someone else' }).where(eq(auditLog.tenantId, tenant.id))).rejects.toThrow();
    await expect(database.db.delete(auditLog).where(eq(auditLog.tenantId, tenant.id))).rejects.toThrow();
    await expect(database.db.delete(events).where(eq(events.tenantId, tenant.id))).rejects.toThrow();
    expect(await database.db.select().from(auditLog).where(eq(auditLog.tenantId, tenant.id))).toHaveLength(1);
  });
});
