import type { GraphQLField, GraphQLNamedType, GraphQLOutputType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../api/schema/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { admin } from '../helpers/services.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let api: TestApi;
let tenant: TestTenant;
let reader: string;
const sender = () => tenant.address('hist');

beforeAll(async () => {
  api = await startTestApi({ clock, env: { SENDGUARD_UNBLOCK_QUOTA: '0' } });
  tenant = await createTestTenant(api.database);
  reader = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
  // A sender restricted 13 times, released after each but the last.
  for (let i = 0; i < 13; i++) {
    clock.advance(60_000);
    await api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: sender(), reasonCode: 'ManualBlock', temporary: false, actor: admin });
    if (i < 12) await api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: sender(), reason: `round ${i}`, acknowledgedRecommendations: [], actor: admin });
  }
});
afterAll(async () => api.stop());

// Duck-typed: under vitest the schema's `graphql` may be another copy than this file's.
const unwrap = (type: GraphQLOutputType): GraphQLNamedType => ('ofType' in type ? unwrap(type.ofType) : type);
const fieldsOf = (type: GraphQLNamedType): GraphQLField<unknown, unknown>[] => ('getInterfaces' in type ? Object.values(type.getFields()) : []);
const isListOfObjects = (type: GraphQLOutputType) => type.toString().replace(/!$/, '').startsWith('[') && 'getFields' in unwrap(type);

const nest = (levels: number, inner: string, args = '') => `${`history${args} { `.repeat(levels)}${inner}${' }'.repeat(levels)}`;

function expectRefusedAsTooExpensive(res: Awaited<ReturnType<TestApi['gql']>>) {
  expect(res.status).toBe(200);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toEqual([
    expect.objectContaining({ message: 'The query is too expensive: ask for fewer items (first) or fewer nested lists.', extensions: { code: 'QUERY_TOO_EXPENSIVE' } }),
  ]);
}

describe('the query cost counts every list with its bound', () => {
  it('refuses a history nested in its history before running it, and goes on serving', async () => {
    // Four levels would be 13^4 entries (1.6 MB), six would exhaust the heap.
    for (const levels of [4, 6]) {
      expectRefusedAsTooExpensive(await api.gql(reader, `query($a: String!) { restrictedUser(senderAddress: $a) { ${nest(levels, 'id')} } }`, { a: sender() }));
    }
    // However the sizes are written: a variable counts as the largest size the field allows.
    expectRefusedAsTooExpensive(await api.gql(reader, `query($a: String!, $n: Int) { restrictedUser(senderAddress: $a) { ${nest(4, 'id', '(first: $n)')} } }`, { a: sender(), n: 1 }));
    // Through fragments too.
    const fragments = `query($a: String!) { restrictedUser(senderAddress: $a) { ...h1 } }
      fragment h1 on RestrictedUser { history { history { ...h2 } } } fragment h2 on RestrictedUser { history { history { id } } }`;
    expectRefusedAsTooExpensive(await api.gql(reader, fragments, { a: sender() }));

    const res = await api.gql<{ restrictedUser: { history: { id: string; status: string }[] } }>(reader, 'query($a: String!) { restrictedUser(senderAddress: $a) { history { id status } } }', { a: sender() });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.restrictedUser.history).toHaveLength(13);
    expect(res.body.data?.restrictedUser.history.map((h) => h.status)).toEqual(['RESTRICTED', ...Array<string>(12).fill('RELEASED')]);
  });

  it('answers a nesting that asks for few items, as many as asked', async () => {
    const res = await api.gql<{ restrictedUser: { history: { history: { id: string }[] }[] } }>(reader, `query($a: String!) { restrictedUser(senderAddress: $a) { ${nest(3, 'id', '(first: 3)')} } }`, {
      a: sender(),
    });
    expect(res.body.errors).toBeUndefined();
    const history = res.body.data?.restrictedUser.history ?? [];
    expect(history).toHaveLength(3);
    expect(history.map((h) => h.history.length)).toEqual([3, 3, 3]);
  });

  it('holds first to the bound of each list, with a typed error', async () => {
    for (const query of [
      'query($a: String!) { restrictedUser(senderAddress: $a) { history(first: 51) { id } } }',
      'query($a: String!) { restrictedUser(senderAddress: $a) { releases(first: -1) { reason } } }',
    ]) {
      const res = await api.gql(reader, query, { a: sender() });
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    }
    const releases = await api.gql<{ restrictedUser: { releases: { reason: string }[] } }>(reader, 'query($a: String!) { restrictedUser(senderAddress: $a) { releases(first: 2) { reason } } }', { a: sender() });
    expect(releases.body.data?.restrictedUser.releases).toEqual([{ reason: 'round 11' }, { reason: 'round 10' }]);
  });

  it('refuses lists nested in a full page, and the same page with smaller lists', async () => {
    const page = (inner: string) => `{ restrictedUsers(first: 100, filter: { status: [RESTRICTED, RELEASED] }) { edges { node { id ${inner} } } } }`;
    expectRefusedAsTooExpensive(await api.gql(reader, page('history { id releases { reason } }')));
    const small = await api.gql<{ restrictedUsers: { edges: unknown[] } }>(reader, page('history(first: 5) { id releases(first: 5) { reason } }'));
    expect(small.body.errors).toBeUndefined();
    expect(small.body.data?.restrictedUsers.edges).toHaveLength(13);
  });

  it('every list of objects in the schema declares how many items it returns at most', () => {
    const undeclared = Object.values(schema.getTypeMap())
      .filter((type) => !type.name.startsWith('__'))
      .flatMap((type) => fieldsOf(type).map((field) => ({ type, field })))
      .filter(({ field }) => isListOfObjects(field.type))
      // A connection's edges are sized by the connection field.
      .filter(({ type, field }) => !(type.name.endsWith('Connection') && field.name === 'edges'))
      .filter(({ field }) => !(field.extensions as { listSize?: unknown }).listSize)
      .map(({ type, field }) => `${type.name}.${field.name}`);
    expect(undeclared).toEqual([]);
    const connections = Object.values(schema.getQueryType()?.getFields() ?? {}).filter((f) => unwrap(f.type).name.endsWith('Connection'));
    expect(connections.length).toBeGreaterThan(3);
    expect(connections.filter((f) => !(f.extensions as { listSize?: unknown }).listSize).map((f) => f.name)).toEqual([]);
  });
});
