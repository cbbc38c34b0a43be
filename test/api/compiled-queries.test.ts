import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestrictCommand } from '../../domain/restrictions/restriction-service.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { admin, policyActor } from '../helpers/services.ts';

// Queries run compiled (api/compiled-queries.ts). A document with two operations runs on
// graphql-js, so the same query asked both ways must get the same answer.

const clock = manualClock('2026-11-26T10:00:00Z');
let api: TestApi;
let tenant: TestTenant;
let token: string;

beforeAll(async () => {
  api = await startTestApi({ clock });
  tenant = await createTestTenant(api.database);
  token = await api.token({ tenantId: tenant.id });
  const restrict = (local: string, overrides: Partial<RestrictCommand> = {}) => {
    clock.advance(1000);
    return api.services.restrictions.restrict({
      tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address(local), reasonCode: 'SendingLimitExceeded',
      exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 100, internalRecipientCount: 3, externalRecipientCount: 101,
      lastMessageRecipientCount: 7, policy: { id: null, name: 'Default', action: 'BlockUserForToday' }, temporary: true,
      expiresAt: new Date('2026-11-27T00:00:00Z'), actor: policyActor, ...overrides,
    });
  };
  await restrict('ann');
  await restrict('bob', { reasonCode: 'SuspectedCompromise', exceededLimit: null, limitValue: null, temporary: false, expiresAt: null, actor: admin });
  await restrict('cy');
  await api.services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('cy'), reason: 'MFA on', acknowledgedRecommendations: ['ENABLE_MFA'], actor: admin });
  await restrict('cy');
});
afterAll(async () => api.stop());

const CONSOLE = `query Console($search: String, $withReleases: Boolean!, $statuses: [RestrictionStatus!]) {
  viewer { name }
  page: restrictedUsers(first: 2, filter: { search: $search, status: $statuses }) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...user releases @include(if: $withReleases) { releasedAt releasedBy reason } } }
  }
  all: restrictedUsers(first: 10, orderBy: { field: ENTITY_KEY, direction: ASC }) { edges { node { ...user } } }
}
fragment user on RestrictedUser {
  senderAddress reason reasonCode status restrictedAt expiresAt temporary policyName policy { name }
  blockedSenderAddress { SenderAddress Reason CreatedDatetime TemporaryBlock }
  ... on RestrictedUser { __typename }
}`;

async function both(variables: Record<string, unknown>) {
  const compiled = await api.gql(token, CONSOLE, variables);
  // A second operation in the document: graphql-js answers it.
  const plain = await api.gqlOperation(token, `${CONSOLE}\nquery Other { __typename }`, 'Console', variables);
  return { compiled, plain };
}

describe('compiled queries', () => {
  it('answer exactly as graphql-js does: aliases, fragments, directives, nested lists, enums and dates', async () => {
    for (const variables of [{ withReleases: true }, { withReleases: false, search: 'CY@', statuses: ['RESTRICTED', 'RELEASED'] }, { withReleases: true, search: 'nobody' }]) {
      const { compiled, plain } = await both(variables);
      expect(compiled.status).toBe(200);
      expect(compiled.body.errors).toBeUndefined();
      expect(compiled.body).toEqual(plain.body);
    }
    const { compiled } = await both({ withReleases: true });
    const data = compiled.body.data as { page: { totalCount: number; edges: { node: { senderAddress: string; releases?: unknown[] } }[] }; all: { edges: unknown[] } };
    expect(data.page.totalCount).toBe(3);
    expect(data.all.edges).toHaveLength(3);
    expect(data.page.edges[0]?.node).toMatchObject({ senderAddress: tenant.address('cy'), releases: [{ releasedBy: 'Adele Vance', reason: 'MFA on' }] });
  });

  it('report an error from a resolver as graphql-js does, with its locations and path', async () => {
    const query = `query Page($after: String) {\n  viewer { name }\n  restrictedUsers(first: 1, after: $after) { totalCount }\n}`;
    const compiled = await api.gql(token, query, { after: 'not-a-cursor' });
    const plain = await api.gqlOperation(token, `${query}\nquery Other { __typename }`, 'Page', { after: 'not-a-cursor' });
    expect(compiled.body).toEqual(plain.body);
    expect(compiled.body.errors).toEqual([expect.objectContaining({ locations: [{ line: 3, column: 3 }], path: ['restrictedUsers'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    expect(compiled.body.data).toBeNull();
  });

  it('leave a query whose variables do not coerce to graphql-js: 400 and its message', async () => {
    const res = await api.gql(token, CONSOLE, { withReleases: true, statuses: ['PRAYING'] });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/Value "PRAYING" does not exist in "RestrictionStatus" enum/);
    expect(res.body.data).toBeUndefined();
  });
});
