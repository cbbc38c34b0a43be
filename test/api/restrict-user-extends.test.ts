import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../api/metrics.ts';
import { events } from '../../db/schema/events.ts';
import { createPolicyServer, type PolicyServer } from '../../mail/policy-server/policy-server.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { waitFor } from '../helpers/wait.ts';

const REFUSED = '550 5.1.8 Access denied, bad outbound sender';
const RESTRICT = `mutation($input: RestrictUserInput!) { restrictUser(input: $input) {
  __typename ... on Error { message }
  ... on RestrictUserSuccess { created extended restrictedUser { reasonCode reason exceededLimit limitValue temporary expiresAt status } }
} }`;

const clock = manualClock('2026-11-26T22:00:30Z');
let database: TestDatabase;
let api: TestApi;
let server: PolicyServer;
let policy: PolicyClient;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startTestApi({ database, clock, env: { SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: '4' } });
  server = createPolicyServer({ enforcement: api.services.enforcement, metrics: createMetrics() });
  policy = await PolicyClient.connect((await server.listen(0, '127.0.0.1')).port);
});
afterAll(async () => {
  policy.close();
  await server.close();
  await api.stop();
  await database.close();
});

async function restrictAs(tenant: TestTenant, input: Record<string, unknown>) {
  const token = await api.token({ tenantId: tenant.id, roles: ['Security Administrator'], principalId: 'oid-sec', name: 'Admin oid-sec' });
  return (await api.gql<{ restrictUser: Record<string, unknown> }>(token, RESTRICT, { input })).body.data?.restrictUser;
}

async function auditTrail(tenant: TestTenant, target: string) {
  const page = await api.services.auditQueries.search(tenant.id, { target }, { first: 50 });
  return page.records.map((r) => ({ actorId: r.actorId, action: r.action, expiresAt: [(r.before as { expiresAt?: string } | null)?.expiresAt, (r.after as { expiresAt?: string }).expiresAt] })).reverse();
}

async function restrictedEvents(tenant: TestTenant, sender: string) {
  const rows = await database.db.select().from(events).where(and(eq(events.tenantId, tenant.id), eq(events.entityKey, sender), eq(events.type, 'UserRestricted'))).orderBy(asc(events.id));
  return rows.map((e) => {
    const p = e.payload as { actorId: string; expiresAt: string | null; reasonCode: string; extended?: boolean };
    return { actorId: p.actorId, expiresAt: p.expiresAt, reasonCode: p.reasonCode, extended: p.extended ?? false };
  });
}

/** Sends to `n` external recipients through the policy server; the replies. */
async function send(sender: string, n: number): Promise<string[]> {
  const replies: string[] = [];
  for (let i = 0; i < n; i++) replies.push(await policy.ask(rcptRequest({ sender, recipient: `r${i}-${Math.random().toString(16).slice(2)}@fabrikam.test` })));
  return replies;
}

describe('a manual block of a sender under a shorter restriction', () => {
  it('extends a BlockUserForToday restriction until released: the sender stays refused after midnight', async () => {
    clock.set('2026-11-26T22:00:30Z');
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 2, action: 'BlockUserForToday' });
    api.services.enforcement.invalidate();
    const sender = tenant.address('mallory');
    expect(await send(sender, 3)).toEqual(['DUNNO', 'DUNNO', REFUSED]);

    const input = { senderAddress: sender, reason: 'SUSPECTED_COMPROMISE', details: 'Sign-ins from two continents.' };
    expect(await restrictAs(tenant, input)).toEqual({
      __typename: 'RestrictUserSuccess',
      created: false,
      extended: true,
      restrictedUser: expect.objectContaining({ reasonCode: 'SENDING_LIMIT_EXCEEDED', temporary: false, expiresAt: null, status: 'RESTRICTED' }),
    });
    // As long already: nothing changes.
    expect(await restrictAs(tenant, { senderAddress: sender, reason: 'MANUAL_BLOCK' })).toMatchObject({ created: false, extended: false, restrictedUser: { expiresAt: null } });

    clock.set('2026-11-27T00:00:30Z');
    expect(await api.services.expiry.runOnce()).toBe(0);
    expect(await send(sender, 1)).toEqual([REFUSED]);
    expect(await auditTrail(tenant, sender)).toEqual([
      { actorId: 'system:policy', action: 'Listed', expiresAt: [undefined, '2026-11-27T00:00:00.000Z'] },
      { actorId: 'oid-sec', action: 'Listed', expiresAt: ['2026-11-27T00:00:00.000Z', null] },
    ]);
    expect(await restrictedEvents(tenant, sender)).toEqual([
      { actorId: 'system:policy', expiresAt: '2026-11-27T00:00:00.000Z', reasonCode: 'SendingLimitExceeded', extended: false },
      { actorId: 'oid-sec', expiresAt: null, reasonCode: 'SendingLimitExceeded', extended: true },
    ]);
  });

  it('extends to a later expiresAt, and leaves a restriction alone that lasts as long or longer', async () => {
    clock.set('2026-11-26T22:00:30Z');
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 2, action: 'BlockUserForToday' });
    api.services.enforcement.invalidate();
    const sender = tenant.address('ned');
    await send(sender, 3);
    expect(await restrictAs(tenant, { senderAddress: sender, reason: 'MANUAL_BLOCK', expiresAt: '2026-11-26T23:00:00Z' })).toMatchObject({
      created: false,
      extended: false,
      restrictedUser: { temporary: true, expiresAt: '2026-11-27T00:00:00.000Z' },
    });
    expect(await restrictAs(tenant, { senderAddress: sender, reason: 'MANUAL_BLOCK', expiresAt: '2026-11-27T12:00:00Z' })).toMatchObject({
      created: false,
      extended: true,
      restrictedUser: { temporary: true, expiresAt: '2026-11-27T12:00:00.000Z' },
    });
    clock.set('2026-11-27T11:59:00Z');
    await api.services.expiry.runOnce();
    expect(await send(sender, 1)).toEqual([REFUSED]);
    clock.set('2026-11-27T12:00:30Z');
    expect(await api.services.expiry.runOnce()).toBeGreaterThanOrEqual(1);
    expect(await send(sender, 1)).toEqual(['DUNNO']);
  });

  it('turns a service-limit restriction, which would clear by itself, into the admin’s block, and the policy server follows', async () => {
    clock.set('2026-11-26T22:00:30Z');
    const tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { perDay: 100, action: 'BlockUserForToday' });
    api.services.enforcement.invalidate();
    const sender = tenant.address('oscar');
    const replies = await send(sender, 5);
    expect(replies.slice(0, 4)).toEqual(Array(4).fill('DUNNO'));
    expect(replies[4]).toMatch(/^550 5\.2\.0 /);
    const token = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
    expect((await api.gql(token, 'query($a: String!) { restrictedUser(senderAddress: $a) { reason } }', { a: sender })).body.data).toEqual({
      restrictedUser: { reason: "Reached the service's limit of 4 recipients per rolling 24 hours; the restriction clears by itself as the window moves on." },
    });
    expect(await restrictAs(tenant, { senderAddress: sender, reason: 'SUSPECTED_COMPROMISE', details: 'Found by the SOC.' })).toMatchObject({
      created: false,
      extended: true,
      restrictedUser: {
        reasonCode: 'SUSPECTED_COMPROMISE',
        reason: 'An admin restricted this sender because the account looks compromised. Found by the SOC.',
        exceededLimit: null,
        limitValue: null,
        temporary: false,
        expiresAt: null,
      },
    });
    clock.advance(60_000);
    await waitFor(() => send(sender, 1), (r) => r[0] === REFUSED, 'the policy server to refuse the sender as restricted', 5000);
    clock.set('2026-11-28T00:00:00Z');
    expect(await api.services.expiry.runOnce()).toBe(0);
    expect(await send(sender, 1)).toEqual([REFUSED]);
  });
});
