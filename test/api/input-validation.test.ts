import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type GraphQLResponse, type TestApi } from '../helpers/graphql.ts';
import { openSse, openWs } from '../helpers/subscriptions.ts';

let api: TestApi;
let tenant: TestTenant;
let token: string;

beforeAll(async () => {
  api = await startTestApi();
  tenant = await createTestTenant(api.database);
  token = await api.token({ tenantId: tenant.id, roles: ['Security Administrator'] });
});
afterAll(async () => api.stop());

const gql = (query: string, variables?: Record<string, unknown>) => api.gql(token, query, variables);

/** What the tenant holds: any write (a restriction, a policy, a rule, a credential, a role, an audit record) shows here. */
async function snapshot() {
  const res = await gql(`{
    restrictedUsers(filter: { status: [RESTRICTED, RELEASED, EXPIRED] }) { totalCount }
    auditLog { totalCount }
    outboundSpamPolicies { name rule { name } }
    alertPolicies { name enabled }
    relayCredentials { username }
    roleAssignments { principalId }
  }`);
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data;
}

function refusedAsBadInput(res: GraphQLResponse<unknown>, names: RegExp): void {
  expect(res.body.data ?? null).toBeNull();
  expect(res.body.errors).toHaveLength(1);
  const [error] = res.body.errors ?? [];
  expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error?.message).toMatch(names);
}

describe('a NUL character (U+0000) in any text input', () => {
  const nul = (s: string) => s.replace('*', '\u0000');

  it.each([
    ['restrictUser details', 'mutation($v: RestrictUserInput!) { restrictUser(input: $v) { __typename } }', () => ({ senderAddress: tenant.address('nul1'), reason: 'MANUAL_BLOCK', details: nul('a*b') }), '$v.details'],
    ['restrictUser senderAddress', 'mutation($v: RestrictUserInput!) { restrictUser(input: $v) { __typename } }', () => ({ senderAddress: nul(tenant.address('nul*')), reason: 'MANUAL_BLOCK' }), '$v.senderAddress'],
    ['unblockUser senderAddress', 'mutation($v: UnblockUserInput!) { unblockUser(input: $v) { __typename } }', () => ({ senderAddress: nul(tenant.address('a*')), reason: 'checked' }), '$v.senderAddress'],
    ['unblockUser reason', 'mutation($v: UnblockUserInput!) { unblockUser(input: $v) { __typename } }', () => ({ senderAddress: tenant.address('a'), reason: nul('ok*') }), '$v.reason'],
    ['createOutboundSpamPolicy name', 'mutation($v: CreateOutboundSpamPolicyInput!) { createOutboundSpamPolicy(input: $v) { __typename } }', () => ({ name: nul('Sales*') }), '$v.name'],
    ['createOutboundSpamRule name', 'mutation($v: CreateOutboundSpamRuleInput!) { createOutboundSpamRule(input: $v) { __typename } }', () => ({ name: nul('R*'), policyName: 'Default', from: [tenant.address('a')] }), '$v.name'],
    ['a list of addresses', 'mutation($v: CreateOutboundSpamRuleInput!) { createOutboundSpamRule(input: $v) { __typename } }', () => ({ name: 'R', policyName: 'Default', from: [tenant.address('a'), nul('b*@x.test')] }), '$v.from[1]'],
    ['updateAlertPolicy name', 'mutation($v: UpdateAlertPolicyInput!) { updateAlertPolicy(input: $v) { __typename } }', () => ({ name: nul('User restricted from sending email*'), enabled: false }), '$v.name'],
    ['assignRole principalId', 'mutation($v: RoleAssignmentInput!) { assignRole(input: $v) { __typename } }', () => ({ principalId: nul('oid-*'), role: 'GLOBAL_READER' }), '$v.principalId'],
    ['createRelayCredential username', 'mutation($v: CreateRelayCredentialInput!) { createRelayCredential(input: $v) { __typename } }', () => ({ username: nul('u*x'), password: 'abcdefghijklmnop' }), '$v.username'],
    ['restrictedUsers search', 'query($v: String) { restrictedUsers(filter: { search: $v }) { totalCount } }', () => nul('a*'), '$v'],
    ['auditLog target', 'query($v: AuditLogFilter) { auditLog(filter: $v) { totalCount } }', () => ({ target: nul('a*') }), '$v.target'],
    ['alerts entityKey', 'query($v: AlertFilter) { alerts(filter: $v) { totalCount } }', () => ({ entityKey: nul('a*') }), '$v.entityKey'],
    ['restrictedUser senderAddress', 'query($v: String!) { restrictedUser(senderAddress: $v) { id } }', () => nul(tenant.address('a*')), '$v'],
    ['senderActivity senderAddress', 'query($v: String!) { senderActivity(senderAddress: $v) { senderAddress } }', () => nul(tenant.address('a*')), '$v'],
  ])('in a variable (%s) is refused as BAD_USER_INPUT naming where, and changes nothing', async (_name, query, value, at) => {
    const before = await snapshot();
    const res = await gql(query, { v: value() });
    refusedAsBadInput(res, new RegExp(`^Variable "\\$v" holds a NUL character \\(U\\+0000\\) at ${at.replace(/[$[\]]/g, '\\$&')}; text may not contain it$`));
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ variable: 'v' });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['restrictUser details', (t: TestTenant) => `mutation { restrictUser(input: { senderAddress: "${t.address('nul1')}", reason: MANUAL_BLOCK, details: "a\\u0000b" }) { __typename } }`, 'input', 'input.details'],
    ['restrictUser senderAddress', (t: TestTenant) => `mutation { restrictUser(input: { senderAddress: "nul\\u0000@${t.domain}", reason: MANUAL_BLOCK }) { __typename } }`, 'input', 'input.senderAddress'],
    ['createOutboundSpamRule from', () => 'mutation { createOutboundSpamRule(input: { name: "R", policyName: "Default", from: ["a@x.test", "b\\u0000@x.test"] }) { __typename } }', 'input', 'input.from[1]'],
    ['restrictedUser', () => '{ restrictedUser(senderAddress: "a\\u0000@x.test") { id } }', 'senderAddress', 'senderAddress'],
    ['restrictedUsers search', () => '{ restrictedUsers(filter: { search: "\\u0000" }) { totalCount } }', 'filter', 'filter.search'],
  ])('written in the document (%s) is refused as BAD_USER_INPUT naming the argument, and changes nothing', async (_name, query, argument, at) => {
    const before = await snapshot();
    const res = await gql(query(tenant));
    refusedAsBadInput(res, new RegExp(`^Argument "${argument}" holds a NUL character \\(U\\+0000\\) at ${at.replace(/[[\]]/g, '\\$&')}; text may not contain it$`));
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ argument });
    expect(await snapshot()).toEqual(before);
  });

  it('in a subscription (over SSE and WebSocket) is refused the same way, before it subscribes', async () => {
    const query = 'subscription($f: RestrictionEventFilter) { restrictionEvents(filter: $f) { __typename } }';
    const variables = { f: { senderAddress: `a\u0000@${tenant.domain}` } };
    const sse = await openSse(api.graphqlUrl, token, query, { variables });
    const event = await sse.next();
    sse.close();
    expect(event?.data.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'Variable "$f" holds a NUL character (U+0000) at $f.senderAddress; text may not contain it']]);
    const ws = openWs(api.url, token);
    // graphql-ws delivers a result that carries errors as `next`, then completes.
    const result = await new Promise<unknown>((resolve) => {
      ws.subscribe({ query, variables }, { next: resolve, error: resolve, complete: () => resolve('completed') });
    });
    await ws.dispose();
    expect((result as { data?: unknown }).data ?? null).toBeNull();
    expect((result as { errors?: unknown }).errors).toMatchObject([{ message: 'Variable "$f" holds a NUL character (U+0000) at $f.senderAddress; text may not contain it', extensions: { code: 'BAD_USER_INPUT' } }]);
  });

  it("in a variable's default is refused too", async () => {
    const res = await gql('query($s: String = "x\\u0000") { restrictedUsers(filter: { search: $s }) { totalCount } }');
    refusedAsBadInput(res, /^The default of variable "\$s" holds a NUL character/);
  });

  it('other text, control characters included where a field takes them, still goes through', async () => {
    const res = await gql('mutation($v: RestrictUserInput!) { restrictUser(input: $v) { __typename ... on RestrictUserSuccess { restrictedUser { senderAddress } } } }', {
      v: { senderAddress: tenant.address('tabs'), reason: 'MANUAL_BLOCK', details: 'line one\nline\ttwo, ünïcode ✓' },
    });
    expect(res.body).toEqual({ data: { restrictUser: { __typename: 'RestrictUserSuccess', restrictedUser: { senderAddress: tenant.address('tabs') } } } });
  });
});

describe('sender addresses', () => {
  it.each([['\u0001'], ['\u007f'], ['\u0085'], ['\u001b']])('refuses a control character (%j) in the local part as a ValidationError, restricting nobody', async (control) => {
    const before = await snapshot();
    const res = await gql('mutation($v: RestrictUserInput!) { restrictUser(input: $v) { __typename ... on ValidationError { field message } } }', {
      v: { senderAddress: `ctl${control}x@${tenant.domain}`, reason: 'MANUAL_BLOCK' },
    });
    expect(res.body.data?.restrictUser).toEqual({ __typename: 'ValidationError', field: 'senderAddress', message: `senderAddress: ctl${control}x@${tenant.domain} is not an e-mail address` });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['restrictedUser', 'query($v: String!) { restrictedUser(senderAddress: $v) { id } }'],
    ['senderActivity', 'query($v: String!) { senderActivity(senderAddress: $v) { senderAddress } }'],
  ])('%s refuses a sender that is no address or user name as BAD_USER_INPUT naming senderAddress, rather than answering for it', async (_name, query) => {
    for (const bad of ['', '  ', 'two words', `bell\u0007@${tenant.domain}`, `${'x'.repeat(321)}@${tenant.domain}`]) {
      const res = await gql(query, { v: bad });
      // restrictedUser is nullable, so its data is { restrictedUser: null } beside the error.
      expect(Object.values((res.body.data ?? {}) as object).filter((v) => v !== null)).toEqual([]);
      expect(res.body.errors?.map((e) => [e.message, e.extensions?.code, e.extensions?.field])).toEqual([
        ['senderAddress must be 1 to 320 characters without spaces or control characters', 'BAD_USER_INPUT', 'senderAddress'],
      ]);
    }
    // A well-formed sender with nothing to show is still an answer.
    expect((await gql(query, { v: ` ${tenant.address('nobody')} ` })).body.errors).toBeUndefined();
  });
});

describe('DateTime', () => {
  const ALERTS_FROM = 'query($from: DateTime) { alerts(first: 1, filter: { from: $from }) { totalCount } }';

  it.each([
    ['a day February does not have', '2026-02-30T00:00:00Z'],
    ['29 February of a common year', '2027-02-29T12:00:00Z'],
    ['31 April', '2026-04-31T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T10:60:00Z'],
    ['an offset of 24 hours', '2026-01-01T10:00:00+24:00'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['a time in year 0000 in UTC', '0001-01-01T00:30:00+01:00'],
    ['a time in year 10000 in UTC', '9999-12-31T23:00:00-05:00'],
  ])('refuses %s (%s) as BAD_USER_INPUT, as a variable and written in the document', async (_name, value) => {
    const message = /DateTime must be an existing ISO-8601 date and time with an offset, in the years 0001 to 9999 \(UTC\)/;
    const asVariable = await gql(ALERTS_FROM, { from: value });
    expect(asVariable.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(asVariable.body.errors?.[0]?.message).toMatch(message);
    const written = await gql(`{ alerts(first: 1, filter: { from: "${value}" }) { totalCount } }`);
    expect(written.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(written.body.errors?.[0]?.message).toMatch(message);
  });

  it('written in the document, says which value it refuses and where', async () => {
    const written = await gql('{ alerts(first: 1, filter: {\n  from: "2026-11-26T00:00:00Z"\n  to: "2026-11-27" }) { totalCount } }');
    expect(written.body.errors).toEqual([
      {
        message: 'Expected value of type "DateTime", found "2026-11-27"; DateTime must be an existing ISO-8601 date and time with an offset, in the years 0001 to 9999 (UTC), such as 2026-11-26T10:00:00Z',
        locations: [{ line: 3, column: 7 }],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
  });

  it.each([['2028-02-29T00:00:00Z'], ['2000-02-29T23:59:59.999Z'], ['0001-01-01T00:00:00Z'], ['9999-12-31T23:59:59Z'], ['2026-11-26T10:00:00+14:00']])('accepts %s', async (value) => {
    const res = await gql(ALERTS_FROM, { from: value });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ alerts: { totalCount: expect.any(Number) } });
  });

  it('a restriction that would end on a day that does not exist is refused, not moved to March', async () => {
    const before = await snapshot();
    const res = await gql('mutation($v: RestrictUserInput!) { restrictUser(input: $v) { __typename } }', { v: { senderAddress: tenant.address('feb30'), reason: 'MANUAL_BLOCK', expiresAt: '2027-02-30T00:00:00Z' } });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(await snapshot()).toEqual(before);
    const found = await gql('query($a: String!) { restrictedUser(senderAddress: $a) { id } }', { a: tenant.address('feb30') });
    expect(found.body).toEqual({ data: { restrictedUser: null } });
  });
});
