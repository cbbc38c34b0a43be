import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../db/schema/events.ts';
import { releaseRequests } from '../../db/schema/restrictions.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { policyActor } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock });
});
afterAll(async () => api.stop());

const UNBLOCK = `mutation($input: UnblockUserInput!) {
  unblockUser(input: $input) {
    __typename
    ... on Error { message }
    ... on UnblockUserSuccess { restrictedUser { senderAddress status releasedBy releaseReason releases { releasedById releasedByRoles reason acknowledgedRecommendations } } }
    ... on NotRestrictedError { entityKey lastRestrictionId }
    ... on UnblockQuotaExceededError { senderAddress releaseCount maxReleases windowDays resetsAt }
    ... on SecondApprovalRequiredError { senderAddress requestedBy requestedAt }
    ... on ValidationError { field }
  }
}`;

function restrict(tenant: TestTenant, address: string) {
  return api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
}

async function unblock(token: string, input: Record<string, unknown>) {
  const res = await api.gql<{ unblockUser: Record<string, unknown> }>(token, UNBLOCK, { input: { reason: 'password reset, MFA on', ...input } });
  expect(res.body.errors).toBeUndefined();
  return res.body.data?.unblockUser;
}

const SET_UNBLOCK_SETTINGS = `mutation($input: SetUnblockSettingsInput!) {
  setUnblockSettings(input: $input) {
    __typename
    ... on Error { message }
    ... on ValidationError { field }
    ... on SetUnblockSettingsSuccess { tenant { unblockQuota unblockQuotaWindowDays requireSecondApproval } }
  }
}`;

async function setUnblockSettings(token: string, input: Record<string, unknown>) {
  const res = await api.gql<{ setUnblockSettings: Record<string, unknown> }>(token, SET_UNBLOCK_SETTINGS, { input });
  return res.body.errors ? { errors: errorCodes(res) } : res.body.data?.setUnblockSettings;
}

async function trail(tenant: TestTenant, address: string) {
  const audit = await api.services.auditQueries.search(tenant.id, { target: address }, { first: 50 });
  return audit.records.map((r) => `${r.action}:${r.actorId}`).reverse();
}

describe('unblockUser', () => {
  it('releases with the admin, roles, reason and acknowledged recommendations; a second unblock is NotRestricted and writes nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('alice');
    const { restriction } = await restrict(tenant, address);
    const token = await api.token({ tenantId: tenant.id, principalId: 'oid-sec-1', name: 'Sam Sec', roles: ['Security Administrator'] });
    const released = await unblock(token, { senderAddress: 'ALICE@' + tenant.domain, acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] });
    expect(released).toEqual({
      __typename: 'UnblockUserSuccess',
      restrictedUser: {
        senderAddress: address,
        status: 'RELEASED',
        releasedBy: 'Sam Sec',
        releaseReason: 'password reset, MFA on',
        releases: [{ releasedById: 'oid-sec-1', releasedByRoles: ['Security Administrator'], reason: 'password reset, MFA on', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] }],
      },
    });
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy', 'Delisted:oid-sec-1']);
    const again = await unblock(token, { senderAddress: address });
    expect(again).toMatchObject({ __typename: 'NotRestrictedError', entityKey: address, message: `${address} is not restricted` });
    const node = await api.gql(token, 'query($id: ID!) { node(id: $id) { ... on RestrictedUser { status } } }', { id: again?.lastRestrictionId });
    expect(node.body.data).toEqual({ node: { status: 'RELEASED' } });
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy', 'Delisted:oid-sec-1']);
    expect((await api.services.restrictionQueries.history(tenant.id, 'user', address)).releases.map((r) => r.restrictionId)).toEqual([restriction.id]);
  });

  it('answers UnblockQuotaExceededError with the count, the window and when it resets', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('bob');
    const token = await api.token({ tenantId: tenant.id });
    for (const at of ['2026-11-01T08:00:00Z', '2026-11-10T08:00:00Z', '2026-11-20T08:00:00Z']) {
      clock.set(at);
      await restrict(tenant, address);
      expect(await unblock(token, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess' });
    }
    clock.set('2026-11-26T10:00:00Z');
    await restrict(tenant, address);
    expect(await unblock(token, { senderAddress: address })).toEqual({
      __typename: 'UnblockQuotaExceededError',
      message: `${address} was released 3 times in the last 30 days (at most 3); the next release is possible at 2026-12-01T08:00:00.000Z`,
      senderAddress: address,
      releaseCount: 3,
      maxReleases: 3,
      windowDays: 30,
      resetsAt: '2026-12-01T08:00:00.000Z',
    });
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
  });

  it("past the quota, asks for a second admin when the tenant requires one, and the second admin's unblock releases", async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('carol');
    const first = await api.token({ tenantId: tenant.id, principalId: 'oid-a', name: 'Admin A' });
    const second = await api.token({ tenantId: tenant.id, principalId: 'oid-b', name: 'Admin B' });
    expect(await setUnblockSettings(first, { requireSecondApproval: true, unblockQuota: 1 })).toEqual({
      __typename: 'SetUnblockSettingsSuccess',
      tenant: { unblockQuota: 1, unblockQuotaWindowDays: 30, requireSecondApproval: true },
    });
    await restrict(tenant, address);
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess' });
    await restrict(tenant, address);
    expect(await unblock(first, { senderAddress: address })).toEqual({
      __typename: 'SecondApprovalRequiredError',
      message: `releasing ${address} again needs a second admin's approval (requested by Admin A)`,
      senderAddress: address,
      requestedBy: 'Admin A',
      requestedAt: clock.now().toISOString(),
    });
    const requestedAt = clock.now().toISOString();
    clock.advance(60_000);
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin A', requestedAt });
    expect(await unblock(second, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess', restrictedUser: { releasedBy: 'Admin B' } });
    // The request is an admin's change like any other, and the release says whose request it approved.
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy', 'Delisted:oid-a', 'Listed:system:policy', 'RequestRelease:oid-a', 'Delisted:oid-b']);
    const audit = await api.services.auditQueries.search(tenant.id, { target: address }, { first: 2 });
    expect(audit.records.map((r) => [r.action, r.details])).toEqual([
      ['Delisted', { event: 'UserReleased', reason: 'password reset, MFA on', approvalOf: { requestedById: 'oid-a', requestedBy: 'Admin A', requestedAt, reason: 'password reset, MFA on' } }],
      ['RequestRelease', { restrictionId: expect.any(String), reason: 'password reset, MFA on', acknowledgedRecommendations: [] }],
    ]);
  });

  it('marks Release.approvedBy deprecated: it only ever repeats releasedBy, the second admin, and points to where the approved request is', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('approved');
    const first = await api.token({ tenantId: tenant.id, principalId: 'oid-a', name: 'Admin A' });
    const second = await api.token({ tenantId: tenant.id, principalId: 'oid-b', name: 'Admin B' });
    await setUnblockSettings(first, { requireSecondApproval: true, unblockQuota: 1 });
    // The releases are listed newest first: a minute apart, so their order is not a tie.
    clock.set('2026-11-26T10:00:00Z');
    await restrict(tenant, address);
    await unblock(first, { senderAddress: address });
    clock.advance(60_000);
    await restrict(tenant, address);
    await unblock(first, { senderAddress: address });
    await unblock(second, { senderAddress: address });
    const releases = await api.gql<{ restrictedUser: { releases: unknown[] } }>(first, 'query($a: String!) { restrictedUser(senderAddress: $a) { releases { releasedBy approvedBy } } }', { a: address });
    expect(releases.body.data?.restrictedUser.releases).toEqual([{ releasedBy: 'Admin B', approvedBy: 'Admin B' }, { releasedBy: 'Admin A', approvedBy: null }]);
    const field = await api.gql<{ __type: { fields: { name: string; isDeprecated: boolean; deprecationReason: string | null }[] } }>(first, '{ __type(name: "Release") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }');
    expect(field.body.data?.__type.fields.find((f) => f.name === 'approvedBy')).toEqual({
      name: 'approvedBy',
      isDeprecated: true,
      deprecationReason: "Always the same as releasedBy: the second admin's unblockUser is the release. Whose request it approved is in the audit log's Delisted record (details.approvalOf).",
    });
  });

  it('a request for a second approval ends when its restriction ends another way, and a late approval releases nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('cleo');
    const first = await api.token({ tenantId: tenant.id, principalId: 'oid-a', name: 'Admin A' });
    const second = await api.token({ tenantId: tenant.id, principalId: 'oid-b', name: 'Admin B' });
    await setUnblockSettings(first, { requireSecondApproval: true, unblockQuota: 1 });
    const requests = async () =>
      (await api.database.db.select().from(releaseRequests).where(eq(releaseRequests.tenantId, tenant.id))).map((r) => ({ restrictionId: r.restrictionId, by: r.requestedBy, status: r.status }));
    clock.set('2026-11-26T10:00:00Z');
    await restrict(tenant, address);
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess' });

    // A temporary block: A asks, and the block ends by itself before B approves.
    const temporary = await api.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: true, expiresAt: new Date('2026-11-26T12:00:00Z'), actor: policyActor,
    });
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin A' });
    clock.set('2026-11-26T13:00:00Z');
    const again = await restrict(tenant, address);
    expect(await requests()).toEqual([{ restrictionId: temporary.restriction.id, by: 'oid-a', status: 'Superseded' }]);
    // B's approval meant for the ended restriction: refused by its id, and without one it is a new request, not a release.
    const ended = Buffer.from(`RestrictedUser:${temporary.restriction.id}`).toString('base64');
    expect(await unblock(second, { senderAddress: address, restrictionId: ended })).toMatchObject({ __typename: 'RestrictionChangedError' });
    expect(await unblock(second, { senderAddress: address })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin B' });
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');

    // Past the quota window an ordinary release needs no approval: the request waiting for one ends with it.
    clock.set('2026-12-27T13:00:00Z');
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess', restrictedUser: { releasedBy: 'Admin A' } });
    expect(await requests()).toEqual([
      { restrictionId: temporary.restriction.id, by: 'oid-a', status: 'Superseded' },
      { restrictionId: again.restriction.id, by: 'oid-b', status: 'Superseded' },
    ]);
    clock.set('2026-11-26T10:00:00Z');
  });

  it('dryRun answers as the release would, quota and second approval included, and writes nothing: no release, audit record, event or approval request', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('dry');
    const first = await api.token({ tenantId: tenant.id, principalId: 'oid-a', name: 'Admin A' });
    const second = await api.token({ tenantId: tenant.id, principalId: 'oid-b', name: 'Admin B' });
    await setUnblockSettings(first, { requireSecondApproval: true, unblockQuota: 1 });
    await restrict(tenant, address);
    const written = async () => ({
      status: (await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status,
      trail: await trail(tenant, address),
      events: (await api.database.db.select({ type: events.type }).from(events).where(eq(events.tenantId, tenant.id))).map((e) => e.type),
    });
    // The restriction's alert is raised in the background; what follows must not wait for it.
    const alerted = (n: number) => expect.poll(async () => (await written()).events.filter((type) => type === 'AlertRaised').length).toBe(n);
    await alerted(1);
    const before = await written();
    expect(await unblock(first, { senderAddress: address, dryRun: true })).toMatchObject({
      __typename: 'UnblockUserSuccess', restrictedUser: { senderAddress: address, status: 'RELEASED', releasedBy: 'Admin A', releases: [] },
    });
    expect(await written()).toEqual(before);

    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess' });
    await restrict(tenant, address);
    await alerted(2);
    const restricted = await written();
    // Past the quota: A's dry run is refused as the call would be, and records no request, so B's dry run asks too.
    expect(await unblock(first, { senderAddress: address, dryRun: true })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin A' });
    expect(await unblock(second, { senderAddress: address, dryRun: true })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin B' });
    expect(await written()).toEqual(restricted);
    // Once A has asked for real, B's dry run would approve, and B's call does.
    expect(await unblock(first, { senderAddress: address })).toMatchObject({ __typename: 'SecondApprovalRequiredError', requestedBy: 'Admin A' });
    expect(await unblock(second, { senderAddress: address, dryRun: true })).toMatchObject({ __typename: 'UnblockUserSuccess', restrictedUser: { releasedBy: 'Admin B' } });
    expect((await written()).status).toBe('Restricted');
    expect(await unblock(second, { senderAddress: address })).toMatchObject({ __typename: 'UnblockUserSuccess', restrictedUser: { releasedBy: 'Admin B' } });
  });

  it('refuses a reason over 1000 characters with a ValidationError and changes nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('dave');
    await restrict(tenant, address);
    const token = await api.token({ tenantId: tenant.id });
    expect(await unblock(token, { senderAddress: address, reason: 'x'.repeat(1001) })).toEqual({
      __typename: 'ValidationError',
      message: 'reason must be at most 1000 characters',
      field: 'reason',
    });
    const unknownKind = await api.gql(token, UNBLOCK, { input: { senderAddress: address, reason: 'r', acknowledgedRecommendations: ['PRAY'] } });
    expect(unknownKind.status).toBe(400);
    expect(unknownKind.body.errors?.[0]?.message).toMatch(/Value "PRAY" does not exist in "RecommendationKind" enum/);
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
  });

  it('refuses a sender that is no address or user name with a ValidationError, not NotRestrictedError', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('dora');
    await restrict(tenant, address);
    const token = await api.token({ tenantId: tenant.id });
    for (const senderAddress of ['', '   ', 'not an address', `${address}\u0007`, `${'x'.repeat(321)}@${tenant.domain}`]) {
      expect(await unblock(token, { senderAddress })).toEqual({
        __typename: 'ValidationError',
        message: 'senderAddress must be 1 to 320 characters without spaces or control characters',
        field: 'senderAddress',
      });
    }
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy']);
    expect(await unblock(token, { senderAddress: ` ${address.toUpperCase()} ` })).toMatchObject({ __typename: 'UnblockUserSuccess' });
  });

  it('is refused to read-only roles with a top-level FORBIDDEN, and nothing changes', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('erin');
    await restrict(tenant, address);
    for (const role of ['Global Reader', 'Security Reader', 'View-Only Organization Management']) {
      const token = await api.token({ tenantId: tenant.id, roles: [role] });
      const listed = await api.gql<{ restrictedUsers: { totalCount: number } }>(token, '{ restrictedUsers { totalCount } }');
      expect(listed.body.data?.restrictedUsers.totalCount).toBe(1);
      const res = await api.gql(token, UNBLOCK, { input: { senderAddress: address, reason: 'r' } });
      expect(errorCodes(res)).toEqual(['FORBIDDEN']);
      expect(res.body.errors?.[0]?.message).toBe('Forbidden: Mutation.unblockUser needs the manage scope, which your roles do not grant');
      expect(res.body.data).toBeNull();
    }
    const none = await api.token({ tenantId: tenant.id, roles: [] });
    expect(errorCodes(await api.gql(none, '{ restrictedUsers { totalCount } }'))).toEqual(['FORBIDDEN']);
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy']);
  });
});

describe('unblockUser with restrictionId (release only that restriction)', () => {
  const ID = 'query($a: String!) { restrictedUser(senderAddress: $a) { id } }';
  const idOf = async (token: string, address: string) => ((await api.gql<{ restrictedUser: { id: string } }>(token, ID, { a: address })).body.data?.restrictedUser.id ?? '');

  it('releases the named restriction; a stale id is NotRestrictedError or RestrictionChangedError and writes nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('gus');
    const token = await api.token({ tenantId: tenant.id, principalId: 'oid-sec-2' });
    await restrict(tenant, address);
    const first = await idOf(token, address);
    const released = await api.gql<{ unblockUser: { restrictedUser: { id: string; releases: { restrictionId: string }[] } } }>(
      token,
      'mutation($input: UnblockUserInput!) { unblockUser(input: $input) { ... on UnblockUserSuccess { restrictedUser { id releases { restrictionId } } } } }',
      { input: { senderAddress: address, reason: 'r', restrictionId: first } },
    );
    expect(released.body.data?.unblockUser.restrictedUser).toEqual({ id: first, releases: [{ restrictionId: first }] });
    expect(await unblock(token, { senderAddress: address, restrictionId: first })).toMatchObject({ __typename: 'NotRestrictedError', entityKey: address, lastRestrictionId: first });

    clock.advance(60_000);
    await restrict(tenant, address);
    const second = await idOf(token, address);
    expect(await unblock(token, { senderAddress: address, restrictionId: first })).toEqual({
      __typename: 'RestrictionChangedError',
      message: `${address} was restricted again since; the restriction you meant is no longer the active one, and nothing was released`,
    });
    const changed = await api.gql(token, 'mutation($input: UnblockUserInput!) { unblockUser(input: $input) { ... on RestrictionChangedError { senderAddress expectedRestrictionId activeRestrictionId } } }', {
      input: { senderAddress: address, reason: 'r', restrictionId: first },
    });
    expect(changed.body.data).toEqual({ unblockUser: { senderAddress: address, expectedRestrictionId: first, activeRestrictionId: second } });
    const connectorId = Buffer.from(`RestrictedConnector:${Buffer.from(second, 'base64').toString().split(':')[1]}`).toString('base64');
    for (const restrictionId of [connectorId, 'not-an-id']) {
      expect(await unblock(token, { senderAddress: address, restrictionId })).toEqual({ __typename: 'ValidationError', message: 'restrictionId is not the id of a restricted user', field: 'restrictionId' });
    }
    // Another sender's restriction, one of another tenant, or a RestrictedUser id with no row id in it: the id does not name one of this sender's.
    const other = tenant.address('hal');
    await restrict(tenant, other);
    const stranger = await createTestTenant(api.database);
    await restrict(stranger, stranger.address('gus'));
    const strangers = await idOf(await api.token({ tenantId: stranger.id }), stranger.address('gus'));
    const forged = Buffer.from('RestrictedUser:not-a-uuid').toString('base64');
    for (const restrictionId of [await idOf(token, other), strangers, forged]) {
      expect(await unblock(token, { senderAddress: address, restrictionId })).toEqual({ __typename: 'ValidationError', message: `restrictionId is not the id of a restriction of ${address}`, field: 'restrictionId' });
    }
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', address))?.status).toBe('Restricted');
    expect((await api.services.restrictionQueries.latest(tenant.id, 'user', other))?.status).toBe('Restricted');
    expect(await trail(tenant, address)).toEqual(['Listed:system:policy', 'Delisted:oid-sec-2', 'Listed:system:policy']);

    expect(await unblock(token, { senderAddress: address, restrictionId: second })).toMatchObject({ __typename: 'UnblockUserSuccess' });
  });

  it('releases the active restriction when its id spells the uuid in capitals', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('gwen');
    const token = await api.token({ tenantId: tenant.id });
    await restrict(tenant, address);
    const [type, rowId] = Buffer.from(await idOf(token, address), 'base64').toString().split(':');
    const restrictionId = Buffer.from(`${type}:${rowId?.toUpperCase()}`).toString('base64');
    expect(await unblock(token, { senderAddress: address, restrictionId })).toMatchObject({ __typename: 'UnblockUserSuccess', restrictedUser: { status: 'RELEASED' } });
    expect(await unblock(token, { senderAddress: address, restrictionId })).toMatchObject({ __typename: 'NotRestrictedError', entityKey: address });
  });
});

describe('RestrictedUser.unblockQuota', () => {
  const QUOTA = 'query($a: String!) { restrictedUser(senderAddress: $a) { unblockQuota { used limit windowDays resetsAt } } }';
  const quotaOf = async (token: string, address: string) => (await api.gql<{ restrictedUser: { unblockQuota: unknown } }>(token, QUOTA, { a: address })).body.data?.restrictedUser.unblockQuota;

  it('counts the releases in the rolling window and says when the count next drops, or when a release is possible again', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('hal');
    const token = await api.token({ tenantId: tenant.id, roles: ['Security Administrator'] });
    clock.set('2026-10-20T08:00:00Z');
    await restrict(tenant, address);
    expect(await quotaOf(token, address)).toEqual({ used: 0, limit: 3, windowDays: 30, resetsAt: null });
    for (const at of ['2026-10-20T08:00:00Z', '2026-11-01T08:00:00Z', '2026-11-10T08:00:00Z']) {
      clock.set(at);
      await restrict(tenant, address);
      await unblock(token, { senderAddress: address });
    }
    clock.set('2026-11-26T10:00:00Z');
    await restrict(tenant, address);
    // The release of 20 October left the window on 19 November.
    expect(await quotaOf(token, address)).toEqual({ used: 2, limit: 3, windowDays: 30, resetsAt: '2026-12-01T08:00:00.000Z' });
    await unblock(token, { senderAddress: address });
    await restrict(tenant, address);
    expect(await quotaOf(token, address)).toEqual({ used: 3, limit: 3, windowDays: 30, resetsAt: '2026-12-01T08:00:00.000Z' });
    expect(await unblock(token, { senderAddress: address })).toMatchObject({ __typename: 'UnblockQuotaExceededError', releaseCount: 3, resetsAt: '2026-12-01T08:00:00.000Z' });
    const reader = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
    const listed = await api.gql(reader, '{ restrictedUsers(first: 10) { edges { node { senderAddress unblockQuota { used limit } } } } }');
    expect(listed.body.data).toEqual({ restrictedUsers: { edges: [{ node: { senderAddress: address, unblockQuota: { used: 3, limit: 3 } } }] } });
  });

  it('has no limit when the tenant turned the quota off', async () => {
    const tenant = await createTestTenant(api.database);
    const address = tenant.address('ida');
    const token = await api.token({ tenantId: tenant.id });
    expect(await setUnblockSettings(token, { unblockQuota: 0 })).toMatchObject({ tenant: { unblockQuota: 0 } });
    await restrict(tenant, address);
    await unblock(token, { senderAddress: address });
    await restrict(tenant, address);
    expect(await quotaOf(token, address)).toEqual({ used: 1, limit: null, windowDays: 30, resetsAt: clock.now().toISOString().replace(/^2026-11-26/, '2026-12-26') });
  });
});

describe('setUnblockSettings', () => {
  it('sets the quota, its window and the second approval, audited; bad values and read-only roles change nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const admin = await api.token({ tenantId: tenant.id, principalId: 'oid-admin', name: 'Adele Vance', roles: ['Security Administrator'] });
    const reader = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
    const current = async () => (await api.gql<{ viewer: { tenant: unknown } }>(reader, '{ viewer { tenant { unblockQuota unblockQuotaWindowDays requireSecondApproval } } }')).body.data?.viewer.tenant;
    expect(await current()).toEqual({ unblockQuota: 3, unblockQuotaWindowDays: 30, requireSecondApproval: false });

    expect(await setUnblockSettings(reader, { requireSecondApproval: true })).toEqual({ errors: ['FORBIDDEN'] });
    for (const [input, field] of [
      [{ unblockQuota: -1 }, 'unblockQuota'],
      [{ unblockQuota: 1001, requireSecondApproval: true }, 'unblockQuota'],
      [{ unblockQuotaWindowDays: 0 }, 'unblockQuotaWindowDays'],
      [{ unblockQuotaWindowDays: 366 }, 'unblockQuotaWindowDays'],
      [{ requireSecondApproval: null }, 'requireSecondApproval'],
    ] as const) {
      expect(await setUnblockSettings(admin, input)).toMatchObject({ __typename: 'ValidationError', field });
    }
    expect(await current()).toEqual({ unblockQuota: 3, unblockQuotaWindowDays: 30, requireSecondApproval: false });

    expect(await setUnblockSettings(admin, { unblockQuota: 5, unblockQuotaWindowDays: 7 })).toMatchObject({ tenant: { unblockQuota: 5, unblockQuotaWindowDays: 7, requireSecondApproval: false } });
    // Unchanged fields stay; null goes back to the deployment's default; a change to nothing is not audited.
    expect(await setUnblockSettings(admin, { requireSecondApproval: true, unblockQuotaWindowDays: null })).toMatchObject({ tenant: { unblockQuota: 5, unblockQuotaWindowDays: 30, requireSecondApproval: true } });
    expect(await setUnblockSettings(admin, { requireSecondApproval: true })).toMatchObject({ __typename: 'SetUnblockSettingsSuccess' });

    const audit = await api.services.auditQueries.search(tenant.id, { action: 'Set-UnblockSettings' }, {});
    expect(audit.records.map((r) => [r.actorId, r.before, r.after]).reverse()).toEqual([
      ['oid-admin', { unblockQuota: null, unblockQuotaWindowDays: null, requireSecondApproval: false }, { unblockQuota: 5, unblockQuotaWindowDays: 7, requireSecondApproval: false }],
      ['oid-admin', { unblockQuota: 5, unblockQuotaWindowDays: 7, requireSecondApproval: false }, { unblockQuota: 5, unblockQuotaWindowDays: null, requireSecondApproval: true }],
    ]);
  });
});
