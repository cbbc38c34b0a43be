import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestrictCommand } from '../../domain/restrictions/restriction-service.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startBareGraphQL, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { admin, policyActor } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock });
});
afterAll(async () => api.stop());

function limitBlock(tenant: TestTenant, local: string, overrides: Partial<RestrictCommand> = {}): RestrictCommand {
  return {
    tenantId: tenant.id,
    entityKind: 'user',
    entityKey: tenant.address(local),
    reasonCode: 'SendingLimitExceeded',
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    internalRecipientCount: 3,
    externalRecipientCount: 101,
    lastMessageRecipientCount: 7,
    policy: { id: null, name: 'Default', action: 'BlockUser' },
    temporary: false,
    actor: policyActor,
    ...overrides,
  };
}

async function restrictMany(tenant: TestTenant, locals: string[], overrides: Partial<RestrictCommand> = {}): Promise<void> {
  for (const local of locals) {
    clock.advance(1000);
    await api.services.restrictions.restrict(limitBlock(tenant, local, overrides));
  }
}

const LIST = `query($first: Int, $after: String, $last: Int, $before: String, $filter: RestrictionFilter, $orderBy: RestrictionOrder) {
  restrictedUsers(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { senderAddress } }
  }
}`;

interface ListData {
  restrictedUsers: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    edges: { cursor: string; node: { senderAddress: string } }[];
  };
}

async function list(token: string, variables: Record<string, unknown>) {
  const res = await api.gql<ListData>(token, LIST, variables);
  expect(res.body.errors).toBeUndefined();
  const data = res.body.data?.restrictedUsers;
  if (!data) throw new Error('no data');
  return { ...data, locals: data.edges.map((e) => e.node.senderAddress.split('@')[0]) };
}

describe('restrictedUsers', () => {
  it('pages by keyset cursor, forwards and backwards, stable while rows are added, with a total', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
    await restrictMany(tenant, ['user0', 'user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'other']);
    const page1 = await list(token, { first: 3, filter: { search: 'USER' } });
    expect(page1.totalCount).toBe(7);
    expect(page1.locals).toEqual(['user6', 'user5', 'user4']);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: page1.edges[2]?.cursor });
    await restrictMany(tenant, ['user7']);
    const page2 = await list(token, { first: 3, after: page1.pageInfo.endCursor, filter: { search: 'user' } });
    expect(page2.locals).toEqual(['user3', 'user2', 'user1']);
    expect(page2.totalCount).toBe(8);
    const last = await list(token, { first: 3, after: page2.pageInfo.endCursor, filter: { search: 'user' } });
    expect(last.locals).toEqual(['user0']);
    expect(last.pageInfo.hasNextPage).toBe(false);
    const back = await list(token, { last: 2, before: page2.pageInfo.startCursor, filter: { search: 'user' } });
    expect(back.locals).toEqual(['user5', 'user4']);
    expect(back.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    // Pages from either end that hold every match, exactly or with room to spare, and one that does not.
    for (const [args, total, rows] of [[{ first: 8 }, 8, 8], [{ last: 20 }, 8, 8], [{ first: 0 }, 8, 0], [{ first: 7 }, 8, 7]] as const) {
      const page = await list(token, { ...args, filter: { search: 'user' } });
      expect([page.totalCount, page.edges.length]).toEqual([total, rows]);
    }
  });

  it('says whether there is a page before and after by what is there now, both ways, also when the rows at the cursor were released', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrictMany(tenant, ['ada', 'bea', 'cal', 'dan', 'eve']);
    const search = { search: tenant.domain };
    const byAddress = { field: 'ENTITY_KEY', direction: 'ASC' };
    const views = [{}, { filter: search }, { orderBy: byAddress }, { orderBy: byAddress, filter: search }];
    const page = async (view: object, args: Record<string, unknown>) => {
      const p = await list(token, { ...view, ...args });
      return [p.locals, p.pageInfo.hasPreviousPage, p.pageInfo.hasNextPage];
    };
    // Each view's cursors, as a card shown now holds them; list order is time (newest first) or address.
    const cursors = new Map<object, Map<string, string>>();
    for (const view of views) {
      const all = await list(token, { ...view, first: 5 });
      cursors.set(view, new Map(all.edges.map((e) => [e.node.senderAddress.split('@')[0] ?? '', e.cursor])));
      const order = all.locals;
      expect(order).toEqual('orderBy' in view ? ['ada', 'bea', 'cal', 'dan', 'eve'] : ['eve', 'dan', 'cal', 'bea', 'ada']);
      const at = (local: string | undefined) => cursors.get(view)?.get(local ?? '');
      expect(await page(view, { first: 2 })).toEqual([order.slice(0, 2), false, true]);
      expect(await page(view, { first: 2, after: at(order[1]) })).toEqual([order.slice(2, 4), true, true]);
      expect(await page(view, { first: 2, after: at(order[3]) })).toEqual([order.slice(4), true, false]);
      expect(await page(view, { last: 2 })).toEqual([order.slice(3), true, false]);
      expect(await page(view, { last: 2, before: at(order[3]) })).toEqual([order.slice(1, 3), true, true]);
      expect(await page(view, { last: 2, before: at(order[1]) })).toEqual([order.slice(0, 1), false, true]);
    }
    // Both ends are released: a card's Next or Previous from before finds the one left, and nothing on either side of it.
    for (const local of ['ada', 'bea', 'dan', 'eve']) {
      await api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reason: 'ok', acknowledgedRecommendations: [], actor: admin });
    }
    for (const view of views) {
      const at = (local: string) => cursors.get(view)?.get(local);
      const [second, fourth] = 'orderBy' in view ? ['bea', 'dan'] : ['dan', 'bea'];
      expect(await page(view, { first: 2, after: at(second) })).toEqual([['cal'], false, false]);
      expect(await page(view, { last: 2, before: at(fourth) })).toEqual([['cal'], false, false]);
      expect(await page(view, { first: 2, after: at('cal') })).toEqual([[], true, false]);
      expect(await page(view, { last: 2, before: at('cal') })).toEqual([[], false, true]);
    }
  });

  it('a search pages in address order too, both ways; a page past its last match and a search matching nothing give their totals', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrictMany(tenant, ['kim', 'ann.k', 'bo', 'kai', 'erik', 'zak']);
    const byAddress = { field: 'ENTITY_KEY', direction: 'ASC' };
    const search = { filter: { search: 'K' }, orderBy: byAddress };
    const page1 = await list(token, { ...search, first: 2 });
    expect([page1.totalCount, page1.locals, page1.pageInfo.hasNextPage]).toEqual([5, ['ann.k', 'erik'], true]);
    const page2 = await list(token, { ...search, first: 2, after: page1.pageInfo.endCursor });
    expect([page2.totalCount, page2.locals]).toEqual([5, ['kai', 'kim']]);
    const page3 = await list(token, { ...search, first: 2, after: page2.pageInfo.endCursor });
    expect([page3.totalCount, page3.locals, page3.pageInfo.hasNextPage]).toEqual([5, ['zak'], false]);
    const beyond = await list(token, { ...search, first: 2, after: page3.pageInfo.endCursor });
    expect([beyond.totalCount, beyond.edges.length, beyond.pageInfo.hasNextPage]).toEqual([5, 0, false]);
    const back = await list(token, { ...search, last: 2, before: page3.pageInfo.startCursor });
    expect([back.totalCount, back.locals]).toEqual([5, ['kai', 'kim']]);
    const none = await list(token, { ...search, first: 2, filter: { search: 'nobody' } });
    expect([none.totalCount, none.edges.length]).toEqual([0, 0]);
  });

  it('a search in UTF-8 finds an internationalised domain kept in ASCII, and a UTF-8 local part as written', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    for (const sender of ['u9@bücher.example', 'müller@contoso.example', 'ann@buecher.example']) {
      clock.advance(1000);
      await api.services.restrictions.restrict({ ...limitBlock(tenant, 'x'), entityKey: sender });
    }
    const found = async (search: string) => (await list(token, { filter: { search } })).edges.map((e) => e.node.senderAddress);
    expect(await found('Bücher')).toEqual(['u9@xn--bcher-kva.example']);
    expect(await found('u9@BÜCHER.example')).toEqual(['u9@xn--bcher-kva.example']);
    expect(await found('xn--bcher')).toEqual(['u9@xn--bcher-kva.example']);
    expect(await found('MÜLLER')).toEqual(['müller@contoso.example']);
    expect(await found('ücher')).toEqual([]);
    expect((await list(token, { filter: { search: 'bücher' } })).totalCount).toBe(1);
  });

  it('lists active restrictions by default and filters by reason, temporary and status; orders by address', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrictMany(tenant, ['carol', 'alice']);
    await restrictMany(tenant, ['bob'], { reasonCode: 'ManualBlock', exceededLimit: null, limitValue: null, actor: admin });
    await restrictMany(tenant, ['dave'], { temporary: true, expiresAt: new Date('2026-11-27T00:00:00Z') });
    await restrictMany(tenant, ['erin']);
    await api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('erin'), reason: 'ok', acknowledgedRecommendations: [], actor: admin });
    const byAddress = { field: 'ENTITY_KEY', direction: 'ASC' };
    expect((await list(token, { orderBy: byAddress })).locals).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect((await list(token, { orderBy: byAddress, filter: { reason: ['MANUAL_BLOCK'] } })).locals).toEqual(['bob']);
    expect((await list(token, { orderBy: byAddress, filter: { temporary: true } })).locals).toEqual(['dave']);
    expect((await list(token, { orderBy: byAddress, filter: { status: ['RELEASED'] } })).locals).toEqual(['erin']);
    expect((await list(token, { orderBy: byAddress, filter: { status: ['RESTRICTED', 'RELEASED'] } })).totalCount).toBe(5);
  });

  it('caps first and last at 100 and refuses cursors it did not issue, with a clear error', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    for (const variables of [{ first: 101 }, { last: 500 }]) {
      const res = await api.gql(token, LIST, variables);
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body.errors?.[0]?.message).toBe('page size is capped at 100');
    }
    const id = '5a9a1f85-ac9c-44aa-b900-584c08065b9c';
    // Forged positions the database could not compare with: a time it cannot store, an id that is no uuid.
    const forged = [['yesterday', id], ['-200000-01-01T00:00:00.000Z', id], ['+275760-09-13T00:00:00.000Z', id], ['2026-11-26T10:00:00.000Z', '-'.repeat(36)]].map((position) =>
      Buffer.from(JSON.stringify(position)).toString('base64url'),
    );
    for (const after of ['not-a-cursor', ...forged]) {
      const bad = await api.gql(token, LIST, { first: 1, after });
      expect(bad.body.errors?.[0]).toMatchObject({ message: 'the cursor is not one this API issued', extensions: { code: 'BAD_USER_INPUT' } });
    }
    const nulKey = Buffer.from(JSON.stringify(['entityKey', 'ann\u0000@example.com', id])).toString('base64url');
    const byAddress = await api.gql(token, LIST, { first: 1, after: nulKey, orderBy: { field: 'ENTITY_KEY', direction: 'ASC' } });
    expect(byAddress.body.errors?.[0]).toMatchObject({ message: 'the cursor is not one this API issued', extensions: { code: 'BAD_USER_INPUT' } });
    expect((await list(token, { first: 100 })).totalCount).toBe(0);
  });

  it('pages one way at a time and refuses a cursor of another order, with a clear error', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrictMany(tenant, ['ann', 'bea', 'cai', 'dan']);
    const byTime = await list(token, { first: 2 });
    const byAddress = await list(token, { first: 2, orderBy: { field: 'ENTITY_KEY', direction: 'ASC' } });
    for (const variables of [
      { first: 2, last: 2 },
      { first: 2, before: byTime.pageInfo.endCursor },
      { last: 2, after: byTime.pageInfo.endCursor },
    ]) {
      const res = await api.gql(token, LIST, variables);
      expect([errorCodes(res), res.body.data]).toEqual([['BAD_USER_INPUT'], null]);
    }
    const alerts = await api.gql(token, '{ alerts(first: 2, last: 2) { totalCount } }');
    expect(errorCodes(alerts)).toEqual(['BAD_USER_INPUT']);
    for (const [cursor, orderBy] of [
      [byTime.pageInfo.endCursor, { field: 'ENTITY_KEY', direction: 'ASC' }],
      [byAddress.pageInfo.endCursor, { field: 'RESTRICTED_AT', direction: 'DESC' }],
    ] as const) {
      const res = await api.gql(token, LIST, { first: 2, after: cursor, orderBy });
      expect(res.body.errors?.[0]).toMatchObject({ message: 'the cursor belongs to another orderBy: page again from the start in this order', extensions: { code: 'BAD_USER_INPUT' } });
    }
    // Each order's own cursors page on, both ways.
    expect((await list(token, { first: 2, after: byAddress.pageInfo.endCursor, orderBy: { field: 'ENTITY_KEY', direction: 'ASC' } })).locals).toEqual(['cai', 'dan']);
    expect((await list(token, { last: 1, before: byAddress.pageInfo.endCursor, orderBy: { field: 'ENTITY_KEY', direction: 'ASC' } })).locals).toEqual(['ann']);
    expect((await list(token, { first: 2, after: byTime.pageInfo.endCursor })).locals).toEqual(['bea', 'ann']);
  });

  it('shows the details an admin needs: reason, counts, policy, Exchange view, recommendations, releases and history', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Security Reader'] });
    await restrictMany(tenant, ['frank']);
    await api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('frank'), reason: 'MFA on', acknowledgedRecommendations: ['ENABLE_MFA'], actor: admin });
    await restrictMany(tenant, ['frank']);
    const res = await api.gql(
      token,
      `query($a: String!) { restrictedUser(senderAddress: $a) {
        id senderAddress reason reasonCode exceededLimit limitValue internalRecipientCount externalRecipientCount policyName status temporary expiresAt
        restrictedAt changedAt recommendations { kind required } releases { reason releasedBy acknowledgedRecommendations limitExemptUntil }
        history { status } blockedSenderAddress { SenderAddress Reason TemporaryBlock CreatedDatetime }
      } }`,
      { a: `Frank@${tenant.domain.toUpperCase()}` },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.restrictedUser).toMatchObject({
      senderAddress: tenant.address('frank'),
      reason: 'Exceeded the limit of 100 external recipients per hour set by the outbound spam policy Default.',
      reasonCode: 'SENDING_LIMIT_EXCEEDED',
      exceededLimit: 'RecipientLimitExternalPerHour',
      limitValue: 100,
      internalRecipientCount: 3,
      externalRecipientCount: 101,
      policyName: 'Default',
      status: 'RESTRICTED',
      temporary: false,
      expiresAt: null,
      restrictedAt: clock.now().toISOString(),
      releases: [{ reason: 'MFA on', releasedBy: 'Adele Vance', acknowledgedRecommendations: ['ENABLE_MFA'], limitExemptUntil: '2026-11-27T00:00:00.000Z' }],
      history: [{ status: 'RESTRICTED' }, { status: 'RELEASED' }],
      blockedSenderAddress: {
        SenderAddress: tenant.address('frank'),
        Reason: 'EmailSendingLimitExceeded;InternalRecipientCountToday=3;ExternalRecipientCountToday=101;ExceedingLimitType=External;LastMessageRcptCount=7',
        TemporaryBlock: false,
        CreatedDatetime: clock.now().toISOString(),
      },
    });
    const kinds = (res.body.data?.restrictedUser as { recommendations: { kind: string; required: boolean }[] }).recommendations;
    expect(kinds.filter((k) => k.required).map((k) => k.kind)).toEqual(['ENABLE_MFA', 'RESET_PASSWORD']);
    const never = await api.gql(token, '{ restrictedUser(senderAddress: "nobody@example.com") { id } }');
    expect(never.body).toEqual({ data: { restrictedUser: null } });
  });

  it('fetches a restriction again by its global id through node', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id });
    await restrictMany(tenant, ['gina']);
    const { edges } = await list(token, { first: 1 });
    const listed = await api.gql<{ restrictedUsers: { edges: { node: { id: string } }[] } }>(token, '{ restrictedUsers(first: 1) { edges { node { id } } } }');
    const id = listed.body.data?.restrictedUsers.edges[0]?.node.id;
    const res = await api.gql(token, 'query($id: ID!) { node(id: $id) { __typename id ... on RestrictedUser { senderAddress } } }', { id });
    expect(res.body.data).toEqual({ node: { __typename: 'RestrictedUser', id, senderAddress: edges[0]?.node.senderAddress } });
  });
});

describe('batching', () => {
  it('reads a 50-row page with its policy, releases, history and Exchange view in a constant number of queries', async () => {
    let counting = false;
    let statements = 0;
    const database = await createTestDatabase({ logQuery: () => void (counting && statements++) });
    const bare = await startBareGraphQL(database, clock);
    try {
      const tenant = await createTestTenant(database);
      const policies = await Promise.all(['Bulk A', 'Bulk B'].map((name) => bare.services.policies.create({ tenantId: tenant.id, actor: admin, name, settings: {} })));
      for (let i = 0; i < 50; i++) {
        clock.advance(1000);
        const policy = policies[i % 2];
        await bare.services.restrictions.restrict(limitBlock(tenant, `bulk${i}`, { policy: policy ? { id: policy.id, name: policy.name, action: 'BlockUser' } : null }));
        if (i % 2 === 0) {
          await bare.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(`bulk${i}`), reason: 'ok', acknowledgedRecommendations: [], actor: admin });
          await bare.services.restrictions.restrict(limitBlock(tenant, `bulk${i}`));
        }
      }
      const token = await bare.token({ tenantId: tenant.id });
      const page = (first: number) =>
        `{ restrictedUsers(first: ${first}) { totalCount edges { node { id senderAddress reason policy { name rule { name } } releases { reason } history(first: 5) { status releases(first: 5) { releasedAt } } blockedSenderAddress { Reason } recommendations { kind } } } } }`;
      const run = async (first: number) => {
        statements = 0;
        counting = true;
        const res = await bare.gql<{ restrictedUsers: { edges: unknown[] } }>(token, page(first));
        counting = false;
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data?.restrictedUsers.edges).toHaveLength(first);
        return statements;
      };
      // The first request also reads the caller's stored roles, which later ones reuse for a while.
      expect(await run(50)).toBeLessThanOrEqual(7);
      const forFifty = await run(50);
      const forFive = await run(5);
      expect(forFifty).toBe(forFive);
      // The page, its total, policies, their rules, releases, history.
      expect(forFifty).toBeLessThanOrEqual(6);
    } finally {
      await bare.stop();
      await database.close();
    }
  });
});
