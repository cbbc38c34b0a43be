import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnector } from '../../db/repos/connectors.ts';
import { events } from '../../db/schema/events.ts';
import { roleAssignments } from '../../db/schema/role-assignments.ts';
import { createTestTenant, needsPostgres, onPostgres, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { policyActor } from '../helpers/services.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api.stop());

async function as(tenant: TestTenant, roles: string[], principalId = 'oid-admin-1') {
  const token = await api.token({ tenantId: tenant.id, roles, principalId, name: `Admin ${principalId}` });
  return async (query: string, variables?: Record<string, unknown>) => api.gql<Record<string, Record<string, unknown>>>(token, query, variables);
}

async function auditActions(tenant: TestTenant, target: string) {
  const page = await api.services.auditQueries.search(tenant.id, { target }, { first: 50 });
  return page.records.map((r) => ({ action: r.action, actorId: r.actorId, before: r.before, after: r.after })).reverse();
}

describe('tenant settings', () => {
  it('turns the audit log off and on, audited each time; setting the same value again writes nothing', async () => {
    const tenant = await createTestTenant(api.database);
    const gql = await as(tenant, ['Organization Management']);
    const set = (enabled: boolean) => gql('mutation($e: Boolean!) { setAuditLogEnabled(input: { enabled: $e }) { id auditLogEnabled } }', { e: enabled });
    expect((await set(false)).body.data).toEqual({ setAuditLogEnabled: { id: tenant.id, auditLogEnabled: false } });
    expect((await set(false)).body.data).toEqual({ setAuditLogEnabled: { id: tenant.id, auditLogEnabled: false } });
    await set(true);
    const trail = await auditActions(tenant, tenant.id);
    expect(trail.map((a) => [a.action, (a.before as { auditLogEnabled: boolean }).auditLogEnabled, (a.after as { auditLogEnabled: boolean }).auditLogEnabled])).toEqual([
      ['Set-AdminAuditLogConfig', true, false],
      ['Set-AdminAuditLogConfig', false, true],
    ]);
    expect((await gql('{ viewer { tenant { auditLogEnabled } } }')).body.data).toEqual({ viewer: { tenant: { auditLogEnabled: true } } });
  });

  it('adds and removes accepted domains with typed errors for bad, foreign, unknown and last domains', async () => {
    const tenant = await createTestTenant(api.database);
    const other = await createTestTenant(api.database);
    const gql = await as(tenant, ['Security Administrator']);
    const change = async (field: string, domain: string) =>
      (await gql(`mutation($d: String!) { ${field}(input: { domain: $d }) { __typename ... on Error { message } ... on ${field === 'addAcceptedDomain' ? 'AddAcceptedDomainSuccess' : 'RemoveAcceptedDomainSuccess'} { tenant { acceptedDomains } } } }`, { d: domain })).body.data?.[field];
    expect(await change('addAcceptedDomain', `Mail.${tenant.domain}`)).toEqual({ __typename: 'AddAcceptedDomainSuccess', tenant: { acceptedDomains: [`mail.${tenant.domain}`, tenant.domain] } });
    expect(await change('addAcceptedDomain', `mail.${tenant.domain}`)).toMatchObject({ __typename: 'AddAcceptedDomainSuccess' });
    expect(await change('addAcceptedDomain', 'not a domain')).toEqual({ __typename: 'ValidationError', message: 'domain: not a domain is not a domain name' });
    expect(await change('addAcceptedDomain', other.domain)).toEqual({ __typename: 'ValidationError', message: `${other.domain} is not available: another organisation has accepted it` });
    // Neither a subdomain nor a parent of another organisation's domain: either would move its senders here.
    expect(await change('addAcceptedDomain', `Sub.${other.domain}`)).toEqual({ __typename: 'ValidationError', message: `sub.${other.domain} is not available: another organisation has accepted ${other.domain}, of which it is a subdomain` });
    expect(await change('addAcceptedDomain', 'test')).toMatchObject({ __typename: 'ValidationError' });
    // Nobody owns the senders under a public suffix; once taken, nobody else could accept a domain under it.
    for (const suffix of ['co.uk', 'CO.UK.', 'github.io']) {
      const bare = suffix.toLowerCase().replace(/\.$/, '');
      expect(await change('addAcceptedDomain', suffix)).toEqual({ __typename: 'ValidationError', message: `${bare} is not available: it is a public suffix, under which anyone can register a domain` });
    }
    const far = await createTestTenant(api.database, { domains: [`eu.${other.id}.example`] });
    expect(await change('addAcceptedDomain', `${other.id}.example`)).toEqual({
      __typename: 'ValidationError',
      message: `${other.id}.example is not available: another organisation has accepted eu.${other.id}.example, a subdomain of it`,
    });
    expect((await api.services.tenantAdmin.overview(far.id))?.acceptedDomains).toEqual([far.domain, `eu.${other.id}.example`].sort());
    expect((await api.services.tenantAdmin.overview(other.id))?.acceptedDomains).toEqual([other.domain]);
    expect(await change('removeAcceptedDomain', 'never.example.com')).toEqual({ __typename: 'NotFoundError', message: 'accepted domain never.example.com was not found' });
    expect(await change('removeAcceptedDomain', `mail.${tenant.domain}`)).toEqual({ __typename: 'RemoveAcceptedDomainSuccess', tenant: { acceptedDomains: [tenant.domain] } });
    expect(await change('removeAcceptedDomain', tenant.domain)).toEqual({ __typename: 'ValidationError', message: `${tenant.domain} is the last accepted domain; add another one first` });
    expect((await auditActions(tenant, `mail.${tenant.domain}`)).map((a) => a.action)).toEqual(['New-AcceptedDomain', 'Remove-AcceptedDomain']);
  });

  it.skipIf(!onPostgres)(`removes two domains at once without leaving none (${needsPostgres})`, async () => {
    for (let round = 0; round < 5; round++) {
      const extra = `second-${round}-${Date.now()}.example`;
      const tenant = await createTestTenant(api.database, { domains: [extra] });
      const gql = await as(tenant, ['Security Administrator']);
      const remove = async (domain: string) => (await gql('mutation($d: String!) { removeAcceptedDomain(input: { domain: $d }) { __typename } }', { d: domain })).body.data?.removeAcceptedDomain;
      const [first, second] = await Promise.all([remove(tenant.domain), remove(extra)]);
      expect([first, second].map((r) => r?.__typename).sort()).toEqual(['RemoveAcceptedDomainSuccess', 'ValidationError']);
      expect((await api.services.tenantAdmin.overview(tenant.id))?.acceptedDomains).toHaveLength(1);
    }
  });
});

describe('role assignments', () => {
  const ASSIGN = 'mutation($input: RoleAssignmentInput!) { assignRole(input: $input) { __typename ... on AssignRoleSuccess { roleAssignment { principalId role createdBy } } ... on Error { message } } }';
  const REMOVE = 'mutation($input: RoleAssignmentInput!) { removeRoleAssignment(input: $input) { __typename ... on Error { message } } }';

  it('only Global Administrator or Organization Management may grant; a granted role takes effect on the next request', async () => {
    const tenant = await createTestTenant(api.database);
    const newcomer = await as(tenant, [], 'Lee@Example.com');
    expect(errorCodes(await newcomer('{ restrictedUsers { totalCount } }'))).toEqual(['FORBIDDEN']);
    const secAdmin = await as(tenant, ['Security Administrator']);
    const refused = await secAdmin(ASSIGN, { input: { principalId: 'lee@example.com', role: 'GLOBAL_READER' } });
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    const globalAdmin = await as(tenant, ['Global Administrator'], 'oid-ga');
    expect((await globalAdmin(ASSIGN, { input: { principalId: 'LEE@example.com', role: 'GLOBAL_READER' } })).body.data).toEqual({
      assignRole: { __typename: 'AssignRoleSuccess', roleAssignment: { principalId: 'lee@example.com', role: 'GLOBAL_READER', createdBy: 'Admin oid-ga' } },
    });
    expect((await newcomer('{ viewer { roles scopes } restrictedUsers { totalCount } }')).body.data).toEqual({ viewer: { roles: ['GLOBAL_READER'], scopes: ['READ'] }, restrictedUsers: { totalCount: 0 } });
    for (const principalId of ['lee\u0007@example.com', 'oid\u0085x']) {
      expect((await globalAdmin(ASSIGN, { input: { principalId, role: 'GLOBAL_READER' } })).body.data).toEqual({
        assignRole: { __typename: 'ValidationError', message: 'principalId must be an object id or user principal name of at most 256 characters' },
      });
    }
    const orgManagement = await as(tenant, ['Organization Management'], 'oid-om');
    expect((await orgManagement(REMOVE, { input: { principalId: 'lee@example.com', role: 'GLOBAL_READER' } })).body.data).toEqual({ removeRoleAssignment: { __typename: 'RemoveRoleAssignmentSuccess' } });
    expect((await orgManagement(REMOVE, { input: { principalId: 'lee@example.com', role: 'GLOBAL_READER' } })).body.data).toEqual({
      removeRoleAssignment: { __typename: 'NotFoundError', message: 'role assignment lee@example.com:Global Reader was not found' },
    });
    expect(errorCodes(await newcomer('{ restrictedUsers { totalCount } }'))).toEqual(['FORBIDDEN']);
    expect((await auditActions(tenant, 'lee@example.com:Global Reader')).map((a) => `${a.action}:${a.actorId}`)).toEqual(['Add-RoleGroupMember:oid-ga', 'Remove-RoleGroupMember:oid-om']);
  });

  it('lists at most 100 assignments a page, as the query cost counts them, and pages on with after', async () => {
    const tenant = await createTestTenant(api.database);
    const rows = Array.from({ length: 130 }, (_, i) => ({ tenantId: tenant.id, principalId: `oid-${String(i).padStart(3, '0')}`, role: 'Global Reader', createdBy: 'test' }));
    await api.database.db.insert(roleAssignments).values(rows);
    const gql = await as(tenant, ['Global Administrator']);
    const LIST = 'query($first: Int, $after: ID) { roleAssignments(first: $first, after: $after) { id principalId } }';
    type Listed = { roleAssignments: { id: string; principalId: string }[] };
    const page = async (variables: Record<string, unknown>) => {
      const res = await gql(LIST, variables);
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      return (res.body.data as unknown as Listed).roleAssignments;
    };
    const unpaged = (await gql('{ roleAssignments { principalId } }')).body.data as unknown as Listed;
    expect(unpaged.roleAssignments.map((a) => a.principalId)).toEqual(rows.slice(0, 100).map((r) => r.principalId));
    const first = await page({});
    const second = await page({ after: first.at(-1)?.id });
    expect([...first, ...second].map((a) => a.principalId)).toEqual(rows.map((r) => r.principalId));
    expect((await page({ first: 2, after: second[0]?.id })).map((a) => a.principalId)).toEqual(['oid-101', 'oid-102']);
    expect(await page({ after: second.at(-1)?.id })).toEqual([]);
    const tooMany = await gql(LIST, { first: 101 });
    expect(tooMany.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'first must be a whole number from 0 to 100']]);
    await gql('mutation { removeRoleAssignment(input: { principalId: "oid-050", role: GLOBAL_READER }) { __typename } }');
    const gone = await gql(LIST, { after: first.find((a) => a.principalId === 'oid-050')?.id });
    expect(gone.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('manual restriction', () => {
  const RESTRICT = `mutation($input: RestrictUserInput!) { restrictUser(input: $input) {
    __typename ... on Error { message } ... on ValidationError { field }
    ... on RestrictUserSuccess { created restrictedUser { senderAddress reasonCode reason restrictedBy temporary expiresAt status } }
  } }`;

  it('restricts a sender of the tenant, once; refuses foreign addresses and past expiry', async () => {
    const tenant = await createTestTenant(api.database);
    const gql = await as(tenant, ['Security Administrator'], 'oid-sec');
    const restrict = async (input: Record<string, unknown>) => (await gql(RESTRICT, { input })).body.data?.restrictUser;
    const input = { senderAddress: `Mallory@${tenant.domain}`, reason: 'SUSPECTED_COMPROMISE', details: 'Sign-ins from two continents.' };
    expect(await restrict(input)).toEqual({
      __typename: 'RestrictUserSuccess',
      created: true,
      restrictedUser: {
        senderAddress: tenant.address('mallory'),
        reasonCode: 'SUSPECTED_COMPROMISE',
        reason: 'An admin restricted this sender because the account looks compromised. Sign-ins from two continents.',
        restrictedBy: 'Admin oid-sec',
        temporary: false,
        expiresAt: null,
        status: 'RESTRICTED',
      },
    });
    expect(await restrict({ ...input, reason: 'MANUAL_BLOCK' })).toMatchObject({ created: false, restrictedUser: { reasonCode: 'SUSPECTED_COMPROMISE' } });
    expect(await restrict({ senderAddress: 'someone@elsewhere.example', reason: 'MANUAL_BLOCK' })).toEqual({
      __typename: 'ValidationError',
      field: 'senderAddress',
      message: "someone@elsewhere.example is not in one of your accepted domains",
    });
    expect(await restrict({ senderAddress: tenant.address('temp'), reason: 'MANUAL_BLOCK', expiresAt: '2000-01-01T00:00:00Z' })).toMatchObject({ __typename: 'ValidationError', field: 'expiresAt' });
    expect(await restrict({ senderAddress: tenant.address('temp'), reason: 'MANUAL_BLOCK', expiresAt: '2099-01-01T00:00:00+01:00' })).toMatchObject({
      restrictedUser: { temporary: true, expiresAt: '2098-12-31T23:00:00.000Z' },
    });
    expect((await auditActions(tenant, tenant.address('mallory'))).map((a) => `${a.action}:${a.actorId}`)).toEqual(['Listed:oid-sec']);
  });

  it('takes a sender of an internationalised domain in its UTF-8 or its ASCII spelling as one sender', async () => {
    const tenant = await createTestTenant(api.database);
    const manage = await as(tenant, ['Organization Management'], 'oid-om');
    const added = await manage('mutation { addAcceptedDomain(input: { domain: "Bücher.example" }) { __typename ... on AddAcceptedDomainSuccess { tenant { acceptedDomains } } } }');
    expect(added.body.data?.addAcceptedDomain).toEqual({ __typename: 'AddAcceptedDomainSuccess', tenant: { acceptedDomains: [tenant.domain, 'xn--bcher-kva.example'] } });
    const gql = await as(tenant, ['Security Administrator'], 'oid-sec');
    const restrict = async (senderAddress: string) => (await gql(RESTRICT, { input: { senderAddress, reason: 'MANUAL_BLOCK' } })).body.data?.restrictUser;
    expect(await restrict('U9@Bücher.example')).toMatchObject({ __typename: 'RestrictUserSuccess', created: true, restrictedUser: { senderAddress: 'u9@xn--bcher-kva.example' } });
    expect(await restrict('u9@xn--bcher-kva.example')).toMatchObject({ created: false });
    const status = async (senderAddress: string) => (await gql('query($a: String!) { restrictedUser(senderAddress: $a) { senderAddress status } }', { a: senderAddress })).body.data?.restrictedUser;
    expect(await status('u9@bücher.example')).toEqual({ senderAddress: 'u9@xn--bcher-kva.example', status: 'RESTRICTED' });
    const unblock = await gql('mutation($a: String!) { unblockUser(input: { senderAddress: $a, reason: "password reset" }) { __typename ... on UnblockUserSuccess { restrictedUser { status } } } }', { a: 'u9@bücher.example' });
    expect(unblock.body.data).toEqual({ unblockUser: { __typename: 'UnblockUserSuccess', restrictedUser: { status: 'RELEASED' } } });
    expect(await status('u9@xn--bcher-kva.example')).toEqual({ senderAddress: 'u9@xn--bcher-kva.example', status: 'RELEASED' });
    // A joiner where none may stand: no valid name, refused as before rather than turned into another.
    expect(await restrict('u9@b\u200dücher.example')).toMatchObject({ __typename: 'ValidationError', field: 'senderAddress' });
  });
});

describe('restricted connectors', () => {
  it('lists restricted connectors with their names and releases them, idempotently', async () => {
    const tenant = await createTestTenant(api.database);
    const connector = await insertConnector(api.database.db, { tenantId: tenant.id, name: 'On-prem Exchange', clientIpRanges: ['192.0.2.0/24'] });
    await api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const gql = await as(tenant, ['Security Administrator']);
    const listed = await gql('{ restrictedConnectors { totalCount edges { node { connectorId connectorName reasonCode status } } } }');
    expect(listed.body.data).toEqual({ restrictedConnectors: { totalCount: 1, edges: [{ node: { connectorId: connector.id, connectorName: 'On-prem Exchange', reasonCode: 'MANUAL_BLOCK', status: 'RESTRICTED' } }] } });
    const UNBLOCK = 'mutation($id: String!) { unblockConnector(input: { connectorId: $id, reason: "patched" }) { __typename ... on UnblockConnectorSuccess { restrictedConnector { status releases { reason } } } ... on NotRestrictedError { entityKey } } }';
    expect((await gql(UNBLOCK, { id: connector.id })).body.data).toEqual({ unblockConnector: { __typename: 'UnblockConnectorSuccess', restrictedConnector: { status: 'RELEASED', releases: [{ reason: 'patched' }] } } });
    expect((await gql(UNBLOCK, { id: connector.id })).body.data).toEqual({ unblockConnector: { __typename: 'NotRestrictedError', entityKey: connector.id } });
    const reader = await as(tenant, ['Global Reader']);
    expect(errorCodes(await reader(UNBLOCK, { id: connector.id }))).toEqual(['FORBIDDEN']);
  });

  it('dryRun answers as the release would and writes nothing: no release, audit record or event', async () => {
    const tenant = await createTestTenant(api.database);
    const connector = await insertConnector(api.database.db, { tenantId: tenant.id, name: 'Scanner relay', clientIpRanges: ['198.51.100.0/24'] });
    await api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const gql = await as(tenant, ['Security Administrator']);
    const UNBLOCK = `mutation($input: UnblockConnectorInput!) { unblockConnector(input: $input) {
      __typename ... on UnblockConnectorSuccess { restrictedConnector { status releasedBy releases { reason } } } ... on NotRestrictedError { entityKey } } }`;
    const written = async () => ({
      status: (await api.services.restrictionQueries.latest(tenant.id, 'connector', connector.id))?.status,
      trail: (await auditActions(tenant, connector.id)).map((a) => a.action),
      events: (await api.database.db.select({ type: events.type }).from(events).where(eq(events.tenantId, tenant.id))).map((e) => e.type),
    });
    // The restriction's alert is raised in the background; what follows must not wait for it.
    await expect.poll(async () => (await written()).events.filter((type) => type === 'AlertRaised').length).toBe(1);
    const before = await written();
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched', dryRun: true } })).body.data).toEqual({
      unblockConnector: { __typename: 'UnblockConnectorSuccess', restrictedConnector: { status: 'RELEASED', releasedBy: 'Admin oid-admin-1', releases: [] } },
    });
    expect(await written()).toEqual(before);
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched' } })).body.data).toMatchObject({ unblockConnector: { __typename: 'UnblockConnectorSuccess' } });
    const released = await written();
    expect(released.status).toBe('Released');
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'again', dryRun: true } })).body.data).toEqual({ unblockConnector: { __typename: 'NotRestrictedError', entityKey: connector.id } });
    expect(await written()).toEqual(released);
  });

  it('releases only the restriction named by restrictionId, so a late click cannot release a newer one', async () => {
    const tenant = await createTestTenant(api.database);
    const connector = await insertConnector(api.database.db, { tenantId: tenant.id, name: 'Branch relay', clientIpRanges: ['203.0.113.0/24'] });
    const restrict = () => api.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    await restrict();
    const gql = await as(tenant, ['Security Administrator']);
    const first = (await gql('{ restrictedConnectors { edges { node { id } } } }')).body.data as { restrictedConnectors: { edges: { node: { id: string } }[] } };
    const firstId = first.restrictedConnectors.edges[0]!.node.id;
    const UNBLOCK = `mutation($input: UnblockConnectorInput!) { unblockConnector(input: $input) {
      __typename ... on UnblockConnectorSuccess { restrictedConnector { id status } } ... on NotRestrictedError { entityKey }
      ... on RestrictionChangedError { entityKey expectedRestrictionId activeRestrictionId } ... on ValidationError { field } } }`;
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched', restrictionId: firstId } })).body.data).toEqual({
      unblockConnector: { __typename: 'UnblockConnectorSuccess', restrictedConnector: { id: firstId, status: 'RELEASED' } },
    });
    await restrict();
    const second = (await api.services.restrictionQueries.latest(tenant.id, 'connector', connector.id))!;
    const status = async () => (await api.services.restrictionQueries.latest(tenant.id, 'connector', connector.id))?.status;
    // The same click again, after the connector was blocked anew: the new block stays.
    const late = (await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched', restrictionId: firstId } })).body.data as { unblockConnector: { activeRestrictionId: string } };
    expect(late).toMatchObject({ unblockConnector: { __typename: 'RestrictionChangedError', entityKey: connector.id, expectedRestrictionId: firstId } });
    expect(late.unblockConnector.activeRestrictionId).not.toBe(firstId);
    expect(await status()).toBe('Restricted');
    // A user's restriction id, or no id at all, is the caller's mistake.
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched', restrictionId: 'not-an-id' } })).body.data).toEqual({ unblockConnector: { __typename: 'ValidationError', field: 'restrictionId' } });
    expect((await gql(UNBLOCK, { input: { connectorId: connector.id, reason: 'patched', restrictionId: late.unblockConnector.activeRestrictionId } })).body.data).toMatchObject({
      unblockConnector: { __typename: 'UnblockConnectorSuccess', restrictedConnector: { status: 'RELEASED' } },
    });
    expect(second.status).toBe('Restricted');
    expect(await status()).toBe('Released');
  });
});
