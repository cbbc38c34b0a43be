import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { admin } from '../helpers/services.ts';

let api: TestApi;
let tenant: TestTenant;
let token: string;
let restrictionId: string;

const globalId = (text: string) => Buffer.from(text, 'utf8').toString('base64');
// Not ids this API issued: not base64 of "Type:id", a type that does not exist, a type that is not a Node.
const malformed = ['garbage', globalId('Foo:5a9a1f85-ac9c-44aa-b900-584c08065b9c'), globalId('Viewer:x'), globalId('Release:1')];

beforeAll(async () => {
  api = await startTestApi();
  tenant = await createTestTenant(api.database);
  token = await api.token({ tenantId: tenant.id });
  await api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('ida'), reasonCode: 'ManualBlock', temporary: false, actor: admin });
  const listed = await api.gql<{ restrictedUsers: { edges: { node: { id: string } }[] } }>(token, '{ restrictedUsers(first: 1) { edges { node { id } } } }');
  restrictionId = listed.body.data?.restrictedUsers.edges[0]?.node.id ?? '';
});
afterAll(async () => api.stop());

describe('ids the API did not issue', () => {
  it('are a ValidationError result of updateAlertStatus, as an id of another type is, never a top-level error', async () => {
    const mutation = `mutation($input: UpdateAlertStatusInput!) { updateAlertStatus(input: $input) { __typename ... on ValidationError { field message } } }`;
    for (const id of [...malformed, restrictionId]) {
      const res = await api.gql(token, mutation, { input: { id, status: 'RESOLVED' } });
      expect(res.body).toEqual({ data: { updateAlertStatus: { __typename: 'ValidationError', field: 'id', message: 'the id is not an alert id' } } });
    }
  });

  it('make node and nodes answer BAD_USER_INPUT with a code; a well-formed id that finds nothing is null', async () => {
    for (const id of malformed) {
      const res = await api.gql(token, 'query($id: ID!) { node(id: $id) { id } }', { id });
      expect(res.body.data).toEqual({ node: null });
      expect(res.body.errors).toEqual([expect.objectContaining({ message: 'id is not an id this API issued', extensions: { code: 'BAD_USER_INPUT', field: 'id' } })]);
      const many = await api.gql(token, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [restrictionId, id] });
      expect(many.body.errors).toEqual([expect.objectContaining({ message: 'ids has an id this API did not issue', extensions: { code: 'BAD_USER_INPUT', field: 'ids' } })]);
    }
    const missing = await api.gql(token, 'query($id: ID!) { node(id: $id) { id } }', { id: globalId('RestrictedUser:5a9a1f85-ac9c-44aa-b900-584c08065b9c') });
    expect(missing.body).toEqual({ data: { node: null } });
    const found = await api.gql(token, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [restrictionId] });
    expect(found.body).toEqual({ data: { nodes: [{ id: restrictionId }] } });
  });

  it('nodes takes at most 100 ids', async () => {
    const res = await api.gql(token, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 101 }, () => restrictionId) });
    expect(res.body.errors).toEqual([expect.objectContaining({ message: 'at most 100 ids', extensions: { code: 'BAD_USER_INPUT', field: 'ids' } })]);
  });
});
