import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnector } from '../../db/repos/connectors.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { admin as adminActor, policyActor } from '../helpers/services.ts';

let api: TestApi;
let a: TestTenant;
let b: TestTenant;
let connectorId: string;
/** A Global Administrator of tenant B: every scope, in the wrong tenant. */
let asB: (query: string, variables?: Record<string, unknown>) => Promise<Record<string, unknown>>;
const ids: Record<string, string> = {};

async function gqlAsA(query: string, variables?: Record<string, unknown>) {
  const token = await api.token({ tenantId: a.id, roles: ['Global Administrator'], principalId: 'oid-a' });
  const res = await api.gql<Record<string, unknown>>(token, query, variables);
  expect(res.body.errors).toBeUndefined();
  return res.body.data ?? {};
}

beforeAll(async () => {
  api = await startTestApi();
  a = await createTestTenant(api.database);
  b = await createTestTenant(api.database);
  const token = await api.token({ tenantId: b.id, roles: ['Global Administrator'], principalId: 'oid-b' });
  asB = async (query, variables) => {
    const res = await api.gql<Record<string, unknown>>(token, query, variables);
    expect(res.body.errors).toBeUndefined();
    return res.body.data ?? {};
  };
  const { restriction } = await api.services.restrictions.restrict({ tenantId: a.id, entityKind: 'user', entityKey: a.address('alice'), reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
  const connector = await insertConnector(api.database.db, { tenantId: a.id, name: 'A relay', clientIpRanges: ['198.51.100.0/24'] });
  connectorId = connector.id;
  const connectorRestriction = await api.services.restrictions.restrict({ tenantId: a.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
  const policy = await api.services.policies.create({ tenantId: a.id, actor: adminActor, name: 'A sales', settings: { recipientLimitPerDay: 50 } });
  const rule = await api.services.rules.create({ tenantId: a.id, actor: adminActor, name: 'A sales rule', policyName: 'A sales', settings: { from: [a.address('sales')] } });
  const assignment = await api.services.roles.assign({ tenantId: a.id, principalId: 'oid-reader', role: 'Global Reader', actor: adminActor });
  const [audit] = (await api.services.auditQueries.search(a.id, {}, { first: 1 })).records;
  const global = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');
  Object.assign(ids, {
    RestrictedUser: global('RestrictedUser', restriction.id),
    RestrictedConnector: global('RestrictedConnector', connectorRestriction.restriction.id),
    OutboundSpamPolicy: global('OutboundSpamPolicy', policy.id),
    OutboundSpamRule: global('OutboundSpamRule', rule.id),
    RoleAssignment: global('RoleAssignment', assignment.assignment.id),
    AuditRecord: global('AuditRecord', audit?.id ?? 0),
  });
});
afterAll(async () => api.stop());

describe('a token for tenant B never sees tenant A', () => {
  it('in lists and lookups', async () => {
    expect(
      await asB(`query($a: String!) {
        viewer { tenantId tenant { id acceptedDomains } }
        restrictedUsers(filter: { status: [RESTRICTED, RELEASED, EXPIRED] }) { totalCount }
        restrictedUser(senderAddress: $a) { id }
        restrictedConnectors { totalCount }
        outboundSpamPolicies { name }
        roleAssignments { principalId }
        auditLog { totalCount }
      }`, { a: a.address('alice') }),
    ).toEqual({
      viewer: { tenantId: b.id, tenant: { id: b.id, acceptedDomains: [b.domain] } },
      restrictedUsers: { totalCount: 0 },
      restrictedUser: null,
      restrictedConnectors: { totalCount: 0 },
      outboundSpamPolicies: [{ name: 'Default' }],
      roleAssignments: [],
      auditLog: { totalCount: 0 },
    });
  });

  it('through node and nodes with ids of every node type of tenant A (null, not an error)', async () => {
    const all = Object.values(ids);
    expect(Object.keys(ids)).toEqual(['RestrictedUser', 'RestrictedConnector', 'OutboundSpamPolicy', 'OutboundSpamRule', 'RoleAssignment', 'AuditRecord']);
    for (const id of all) expect(await asB('query($id: ID!) { node(id: $id) { id } }', { id })).toEqual({ node: null });
    expect(await asB('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: all })).toEqual({ nodes: all.map(() => null) });
    const own = await gqlAsA('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: all });
    expect(own).toEqual({ nodes: all.map((id) => ({ id })) });
  });
});

describe('a token for tenant B never changes tenant A', () => {
  it('cannot release, restrict or edit what belongs to A', async () => {
    const onError = '__typename ... on Error { message }';
    const mutations: [string, Record<string, unknown>, string][] = [
      ['mutation($input: UnblockUserInput!) { r: unblockUser(input: $input) { ' + onError + ' } }', { input: { senderAddress: a.address('alice'), reason: 'x' } }, 'NotRestrictedError'],
      ['mutation($input: UnblockConnectorInput!) { r: unblockConnector(input: $input) { ' + onError + ' } }', { input: { connectorId, reason: 'x' } }, 'NotRestrictedError'],
      ['mutation($input: RestrictUserInput!) { r: restrictUser(input: $input) { ' + onError + ' } }', { input: { senderAddress: a.address('bob'), reason: 'MANUAL_BLOCK' } }, 'ValidationError'],
      ['mutation($input: UpdateOutboundSpamPolicyInput!) { r: updateOutboundSpamPolicy(input: $input) { ' + onError + ' } }', { input: { name: 'A sales', recipientLimitPerDay: 1 } }, 'NotFoundError'],
      ['mutation($input: DeleteOutboundSpamPolicyInput!) { r: deleteOutboundSpamPolicy(input: $input) { ' + onError + ' } }', { input: { name: 'A sales' } }, 'NotFoundError'],
      ['mutation($input: CreateOutboundSpamRuleInput!) { r: createOutboundSpamRule(input: $input) { ' + onError + ' } }', { input: { name: 'x', policyName: 'A sales', from: [b.address('x')] } }, 'NotFoundError'],
      ['mutation($input: UpdateOutboundSpamRuleInput!) { r: updateOutboundSpamRule(input: $input) { ' + onError + ' } }', { input: { name: 'A sales rule', enabled: false } }, 'NotFoundError'],
      ['mutation($input: DeleteOutboundSpamRuleInput!) { r: deleteOutboundSpamRule(input: $input) { ' + onError + ' } }', { input: { name: 'A sales rule' } }, 'NotFoundError'],
      ['mutation($input: AcceptedDomainInput!) { r: addAcceptedDomain(input: $input) { ' + onError + ' } }', { input: { domain: a.domain } }, 'ValidationError'],
      ['mutation($input: AcceptedDomainInput!) { r: removeAcceptedDomain(input: $input) { ' + onError + ' } }', { input: { domain: a.domain } }, 'NotFoundError'],
      ['mutation($input: RoleAssignmentInput!) { r: removeRoleAssignment(input: $input) { ' + onError + ' } }', { input: { principalId: 'oid-reader', role: 'GLOBAL_READER' } }, 'NotFoundError'],
    ];
    for (const [query, variables, typename] of mutations) {
      expect(await asB(query, variables)).toMatchObject({ r: { __typename: typename } });
    }
    // Same names in its own tenant change only its own rows.
    await asB('mutation { updateOutboundSpamPolicy(input: { name: "Default", recipientLimitPerDay: 7 }) { __typename } }');
    await asB('mutation { setAuditLogEnabled(input: { enabled: false }) { id } }');
    await asB('mutation { assignRole(input: { principalId: "oid-a-user", role: SECURITY_ADMINISTRATOR }) { __typename } }');
    const aUser = await api.token({ tenantId: a.id, roles: [], principalId: 'oid-a-user' });
    expect(errorCodes(await api.gql(aUser, 'mutation { setAuditLogEnabled(input: { enabled: false }) { id } }'))).toEqual(['FORBIDDEN']);

    expect(
      await gqlAsA(`query($a: String!) {
        restrictedUser(senderAddress: $a) { status }
        restrictedConnectors { totalCount }
        outboundSpamPolicies { name recipientLimitPerDay rule { name enabled } }
        roleAssignments { principalId role }
        viewer { tenant { acceptedDomains auditLogEnabled } }
      }`, { a: a.address('alice') }),
    ).toEqual({
      restrictedUser: { status: 'RESTRICTED' },
      restrictedConnectors: { totalCount: 1 },
      outboundSpamPolicies: [
        { name: 'A sales', recipientLimitPerDay: 50, rule: { name: 'A sales rule', enabled: true } },
        { name: 'Default', recipientLimitPerDay: 0, rule: null },
      ],
      roleAssignments: [{ principalId: 'oid-reader', role: 'GLOBAL_READER' }],
      viewer: { tenant: { acceptedDomains: [a.domain], auditLogEnabled: true } },
    });
    expect((await api.services.restrictionQueries.latest(a.id, 'user', a.address('bob')))).toBeUndefined();
  });
});
