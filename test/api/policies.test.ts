import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api.stop());

const POLICIES = `{ outboundSpamPolicies { name isDefault recipientLimitExternalPerHour recipientLimitInternalPerHour recipientLimitPerDay actionWhenThresholdReached notifyOutboundSpamRecipients rule { name priority enabled from senderDomainIs policy { name } } } }`;
const RESULT = '__typename ... on Error { message }';
const INVALID = '... on ValidationError { field }';
const MISSING = '... on NotFoundError { kind key }';

async function admin() {
  const tenant = await createTestTenant(api.database);
  const token = await api.token({ tenantId: tenant.id, principalId: 'oid-admin-1', roles: ['Security Administrator'] });
  const run = async (query: string, variables?: Record<string, unknown>) => {
    const res = await api.gql<Record<string, Record<string, unknown>>>(token, query, variables);
    expect(res.body.errors).toBeUndefined();
    return res.body.data ?? {};
  };
  const mutate = async (field: string, input: Record<string, unknown>, select = INVALID) => {
    const inputType = `${field[0]?.toUpperCase()}${field.slice(1)}Input`;
    const data = await run(`mutation($input: ${inputType}!) { ${field}(input: $input) { ${RESULT} ${select} } }`, { input });
    return data[field] ?? {};
  };
  const policies = async () => (await run(POLICIES)).outboundSpamPolicies as unknown as { name: string; rule: { name: string; priority: number } | null }[];
  const ruleOrder = async () => (await policies()).filter((p) => p.rule).map((p) => `${p.rule?.priority}:${p.rule?.name}`);
  const audited = async (action: string) => ((await run(`{ auditLog(filter: { action: "${action}" }) { totalCount } }`)).auditLog as { totalCount: number }).totalCount;
  return { tenant, token, run, mutate, policies, ruleOrder, audited };
}

describe('outbound spam policies', () => {
  it('every tenant has the Default policy (0 = service default, BlockUserForToday, no rule)', async () => {
    const { policies } = await admin();
    expect(await policies()).toEqual([
      { name: 'Default', isDefault: true, recipientLimitExternalPerHour: 0, recipientLimitInternalPerHour: 0, recipientLimitPerDay: 0, actionWhenThresholdReached: 'BLOCK_USER_FOR_TODAY', notifyOutboundSpamRecipients: [], rule: null },
    ]);
  });

  it('updates the Default policy and audits who changed what, before and after', async () => {
    const { tenant, mutate, run } = await admin();
    const updated = await mutate('updateOutboundSpamPolicy', { name: 'Default', recipientLimitExternalPerHour: 400, actionWhenThresholdReached: 'BLOCK_USER' }, `${INVALID} ... on UpdateOutboundSpamPolicySuccess { policy { name recipientLimitExternalPerHour recipientLimitPerDay actionWhenThresholdReached } }`);
    expect(updated).toEqual({ __typename: 'UpdateOutboundSpamPolicySuccess', policy: { name: 'Default', recipientLimitExternalPerHour: 400, recipientLimitPerDay: 0, actionWhenThresholdReached: 'BLOCK_USER' } });
    const audit = await run('{ auditLog(filter: { action: "Set-HostedOutboundSpamFilterPolicy" }) { totalCount edges { node { actorId actorRoles source target before after } } } }');
    const log = audit.auditLog as unknown as { totalCount: number; edges: { node: { actorId: string; actorRoles: string[]; source: string; target: string; before: Record<string, unknown>; after: Record<string, unknown> } }[] };
    expect(log.totalCount).toBe(1);
    expect(log.edges[0]?.node).toMatchObject({
      actorId: 'oid-admin-1',
      actorRoles: ['Security Administrator'],
      source: 'graphql',
      target: 'Default',
      before: { recipientLimitExternalPerHour: 0, actionWhenThresholdReached: 'BlockUserForToday', tenantId: tenant.id },
      after: { recipientLimitExternalPerHour: 400, actionWhenThresholdReached: 'BlockUser' },
    });
  });

  it('an update that gives the values the policy already has changes nothing and is not audited; a real change is', async () => {
    const { mutate, audited } = await admin();
    const select = `${INVALID} ... on UpdateOutboundSpamPolicySuccess { policy { recipientLimitPerDay notifyOutboundSpamRecipients updatedAt } }`;
    const first = await mutate('updateOutboundSpamPolicy', { name: 'Default', recipientLimitPerDay: 300, notifyOutboundSpamRecipients: ['soc@contoso.com'] }, select);
    expect(await audited('Set-HostedOutboundSpamFilterPolicy')).toBe(1);
    const same = { name: 'default', recipientLimitPerDay: 300, recipientLimitExternalPerHour: 0, actionWhenThresholdReached: 'BLOCK_USER_FOR_TODAY', notifyOutboundSpamRecipients: ['SOC@Contoso.com'] };
    expect(await mutate('updateOutboundSpamPolicy', same, select)).toEqual(first);
    expect(await audited('Set-HostedOutboundSpamFilterPolicy')).toBe(1);
    expect(await mutate('updateOutboundSpamPolicy', { ...same, recipientLimitPerDay: 301 }, select)).toMatchObject({ policy: { recipientLimitPerDay: 301 } });
    expect(await audited('Set-HostedOutboundSpamFilterPolicy')).toBe(2);
  });

  it.each([
    ['a limit over 10000', { name: 'Default', recipientLimitPerDay: 10_001 }, 'recipientLimitPerDay', 'recipientLimitPerDay must be a whole number from 0 (the service default) to 10000'],
    ['a negative limit', { name: 'Default', recipientLimitExternalPerHour: -1 }, 'recipientLimitExternalPerHour', 'recipientLimitExternalPerHour must be a whole number from 0 (the service default) to 10000'],
    ['a notify recipient that is not an address', { name: 'Default', notifyOutboundSpamRecipients: ['not an address'] }, 'notifyOutboundSpamRecipients', 'notifyOutboundSpamRecipients: not an address is not an e-mail address'],
    ['a null limit, which would keep the value while answering success', { name: 'Default', recipientLimitPerDay: 300, recipientLimitExternalPerHour: null }, 'recipientLimitExternalPerHour', 'recipientLimitExternalPerHour cannot be null: leave it out to keep it as it is'],
    ['a null action', { name: 'Default', actionWhenThresholdReached: null }, 'actionWhenThresholdReached', 'actionWhenThresholdReached cannot be null: leave it out to keep it as it is'],
  ])('refuses %s with a ValidationError and changes nothing', async (_name, input, field, message) => {
    const { mutate, policies } = await admin();
    const before = await policies();
    expect(await mutate('updateOutboundSpamPolicy', input)).toEqual({ __typename: 'ValidationError', field, message });
    expect(await policies()).toEqual(before);
  });

  it.each([
    ['a name with a character Exchange forbids', { name: 'Sales/EMEA' }, 'name must not contain / (none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , ")'],
    ['a name over 64 characters', { name: 'x'.repeat(65) }, 'name must be 1 to 64 characters'],
    ['an empty name', { name: '  ' }, 'name must be 1 to 64 characters'],
    ['a name with a tab', { name: 'Sales\tEMEA' }, 'name must not contain control or invisible formatting characters'],
    ['a name with a zero-width space', { name: 'Default\u200b' }, 'name must not contain control or invisible formatting characters'],
    ['a name already taken', { name: 'Default' }, 'a policy named Default already exists'],
    ['a name already taken in another case', { name: 'DEFAULT' }, 'a policy named Default already exists'],
  ])('refuses to create a policy with %s', async (_name, input, message) => {
    const { mutate, policies } = await admin();
    expect(await mutate('createOutboundSpamPolicy', input)).toEqual({ __typename: 'ValidationError', field: 'name', message });
    expect(await policies()).toHaveLength(1);
  });

  it('cannot delete the Default policy; an unknown policy is NotFound', async () => {
    const { mutate, policies } = await admin();
    expect(await mutate('deleteOutboundSpamPolicy', { name: 'Default' })).toEqual({ __typename: 'ValidationError', field: 'name', message: 'the Default policy cannot be deleted' });
    expect(await mutate('deleteOutboundSpamPolicy', { name: 'default' })).toEqual({ __typename: 'ValidationError', field: 'name', message: 'the Default policy cannot be deleted' });
    // Names are matched in any case, as Exchange matches an Identity.
    expect(await mutate('updateOutboundSpamPolicy', { name: 'dEfAuLt', recipientLimitPerDay: 5 }, `${INVALID} ... on UpdateOutboundSpamPolicySuccess { policy { name recipientLimitPerDay } }`)).toEqual({
      __typename: 'UpdateOutboundSpamPolicySuccess',
      policy: { name: 'Default', recipientLimitPerDay: 5 },
    });
    expect(await mutate('updateOutboundSpamPolicy', { name: 'Nope', recipientLimitPerDay: 5 }, MISSING)).toEqual({ __typename: 'NotFoundError', kind: 'outbound spam policy', key: 'Nope', message: 'outbound spam policy Nope was not found' });
    expect(await policies()).toHaveLength(1);
  });
});

describe('outbound spam rules', () => {
  it('keeps priorities unique and contiguous: inserting shifts the rest down, moving and deleting close up', async () => {
    const { mutate, ruleOrder, policies } = await admin();
    for (const name of ['Sales', 'Support', 'Execs']) expect(await mutate('createOutboundSpamPolicy', { name, recipientLimitPerDay: 100 })).toMatchObject({ __typename: 'CreateOutboundSpamPolicySuccess' });
    expect(await mutate('createOutboundSpamRule', { name: 'Sales rule', policyName: 'Sales', senderDomainIs: ['sales.example.com'] }, `${INVALID} ... on CreateOutboundSpamRuleSuccess { rule { priority } }`)).toEqual({ __typename: 'CreateOutboundSpamRuleSuccess', rule: { priority: 0 } });
    await mutate('createOutboundSpamRule', { name: 'Support rule', policyName: 'Support', from: ['Help@Example.com'], priority: 0 });
    await mutate('createOutboundSpamRule', { name: 'Execs rule', policyName: 'Execs', fromMemberOf: ['execs@example.com'] });
    expect(await ruleOrder()).toEqual(['0:Support rule', '1:Sales rule', '2:Execs rule']);
    expect((await policies()).map((p) => p.name)).toEqual(['Support', 'Sales', 'Execs', 'Default']);
    await mutate('updateOutboundSpamRule', { name: 'Execs rule', priority: 0 });
    expect(await ruleOrder()).toEqual(['0:Execs rule', '1:Support rule', '2:Sales rule']);
    await mutate('updateOutboundSpamRule', { name: 'Execs rule', priority: 2 });
    expect(await ruleOrder()).toEqual(['0:Support rule', '1:Sales rule', '2:Execs rule']);
    await mutate('updateOutboundSpamRule', { name: 'Sales rule', priority: 0 });
    expect(await ruleOrder()).toEqual(['0:Sales rule', '1:Support rule', '2:Execs rule']);
    expect(await mutate('deleteOutboundSpamRule', { name: 'Sales rule' }, MISSING)).toMatchObject({ __typename: 'DeleteOutboundSpamRuleSuccess' });
    expect(await ruleOrder()).toEqual(['0:Support rule', '1:Execs rule']);
    // The response shows the policy and the rule deleted with it as they were, the rule's policy included.
    expect(await mutate('deleteOutboundSpamPolicy', { name: 'Support' }, `${INVALID} ... on DeleteOutboundSpamPolicySuccess { policy { name recipientLimitPerDay rule { name priority from policy { name } } } }`)).toEqual({
      __typename: 'DeleteOutboundSpamPolicySuccess',
      policy: { name: 'Support', recipientLimitPerDay: 100, rule: { name: 'Support rule', priority: 0, from: ['help@example.com'], policy: { name: 'Support' } } },
    });
    expect(await mutate('deleteOutboundSpamPolicy', { name: 'Sales' }, `${INVALID} ... on DeleteOutboundSpamPolicySuccess { policy { name rule { name } } }`)).toEqual({
      __typename: 'DeleteOutboundSpamPolicySuccess', policy: { name: 'Sales', rule: null },
    });
    expect(await ruleOrder()).toEqual(['0:Execs rule']);
    expect((await policies()).map((p) => p.name)).toEqual(['Execs', 'Default']);
  });

  it('stores conditions lower-cased and refuses bad rules with a ValidationError', async () => {
    const { mutate, ruleOrder, run } = await admin();
    await mutate('createOutboundSpamPolicy', { name: 'Bulk' });
    await mutate('createOutboundSpamPolicy', { name: 'Other' });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'r', policyName: 'Bulk' }, 'from', 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs'],
      [{ name: 'r', policyName: 'Bulk', senderDomainIs: ['not a domain'] }, 'senderDomainIs', 'senderDomainIs: not a domain is not a domain name'],
      [{ name: 'r', policyName: 'Default', from: ['a@example.com'] }, 'policyName', 'the Default policy applies to everyone else and takes no rule'],
      [{ name: 'r', policyName: 'Bulk', from: ['a@example.com'], priority: 1 }, 'priority', 'priority must be a whole number from 0 to 0'],
      [{ name: 'r;1', policyName: 'Bulk', from: ['a@example.com'] }, 'name', 'name must not contain ; (none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , ")'],
    ];
    for (const [input, field, message] of cases) expect(await mutate('createOutboundSpamRule', input)).toEqual({ __typename: 'ValidationError', field, message });
    expect(await ruleOrder()).toEqual([]);
    await mutate('createOutboundSpamRule', { name: 'Bulk rule', policyName: 'Bulk', from: ['Mailer@Example.COM', 'mailer@example.com'], exceptIfSenderDomainIs: ['VIP.example.com'] });
    expect(await mutate('createOutboundSpamRule', { name: 'Bulk rule 2', policyName: 'Bulk', from: ['x@example.com'] })).toEqual({ __typename: 'ValidationError', field: 'policyName', message: 'the policy Bulk already has a rule' });
    expect(await mutate('createOutboundSpamRule', { name: 'Bulk rule', policyName: 'Other', from: ['x@example.com'] })).toEqual({ __typename: 'ValidationError', field: 'name', message: 'a rule named Bulk rule already exists' });
    expect(await mutate('createOutboundSpamRule', { name: 'BULK RULE', policyName: 'other', from: ['x@example.com'] })).toEqual({ __typename: 'ValidationError', field: 'name', message: 'a rule named Bulk rule already exists' });
    expect(await mutate('updateOutboundSpamRule', { name: 'Bulk rule', from: [] })).toEqual({ __typename: 'ValidationError', field: 'from', message: 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs' });
    const data = await run('{ outboundSpamPolicies { name rule { from exceptIfSenderDomainIs enabled } } }');
    expect(data.outboundSpamPolicies).toContainEqual({ name: 'Bulk', rule: { from: ['mailer@example.com'], exceptIfSenderDomainIs: ['vip.example.com'], enabled: true } });
  });

  it('an update that gives the values the rule already has changes nothing and is not audited; a real change is', async () => {
    const { mutate, audited, ruleOrder } = await admin();
    for (const name of ['Sales', 'Support']) await mutate('createOutboundSpamPolicy', { name });
    await mutate('createOutboundSpamRule', { name: 'Sales rule', policyName: 'Sales', from: ['ann@example.com'], comments: 'EMEA' });
    await mutate('createOutboundSpamRule', { name: 'Support rule', policyName: 'Support', senderDomainIs: ['support.example.com'] });
    const select = `${INVALID} ... on UpdateOutboundSpamRuleSuccess { rule { priority enabled from comments updatedAt } }`;
    const same = { name: 'SALES RULE', priority: 0, enabled: true, from: ['Ann@Example.com'], senderDomainIs: [], comments: 'EMEA' };
    expect(await mutate('updateOutboundSpamRule', same, select)).toMatchObject({ __typename: 'UpdateOutboundSpamRuleSuccess', rule: { priority: 0, enabled: true, from: ['ann@example.com'] } });
    expect(await audited('Set-HostedOutboundSpamFilterRule')).toBe(0);
    expect(await ruleOrder()).toEqual(['0:Sales rule', '1:Support rule']);
    expect(await mutate('updateOutboundSpamRule', { ...same, priority: 1, enabled: false }, select)).toMatchObject({ rule: { priority: 1, enabled: false } });
    expect(await audited('Set-HostedOutboundSpamFilterRule')).toBe(1);
    expect(await ruleOrder()).toEqual(['0:Support rule', '1:Sales rule']);
  });

  it('refuses null for a setting of a rule update with a ValidationError, rather than answer success and keep it', async () => {
    const { mutate, policies } = await admin();
    await mutate('createOutboundSpamPolicy', { name: 'Sales' });
    await mutate('createOutboundSpamRule', { name: 'Sales rule', policyName: 'Sales', from: ['ann@example.com'], comments: 'EMEA' });
    const before = await policies();
    for (const [field, input] of [['enabled', { enabled: null }], ['from', { from: null, senderDomainIs: ['example.com'] }]] as const) {
      expect(await mutate('updateOutboundSpamRule', { name: 'Sales rule', ...input })).toEqual({ __typename: 'ValidationError', field, message: `${field} cannot be null: leave it out to keep it as it is` });
    }
    expect(await mutate('updateOutboundSpamRule', { name: 'Sales rule', comments: null })).toEqual({
      __typename: 'ValidationError',
      field: 'comments',
      message: 'comments cannot be null: leave it out to keep it as it is, or give "" to clear it',
    });
    expect(await policies()).toEqual(before);
  });

  it('clears a rule\'s comments given as "", audited once, as if it never had any', async () => {
    const { mutate, audited } = await admin();
    await mutate('createOutboundSpamPolicy', { name: 'Sales' });
    await mutate('createOutboundSpamRule', { name: 'Sales rule', policyName: 'Sales', from: ['ann@example.com'], comments: 'EMEA' });
    const select = `${INVALID} ... on UpdateOutboundSpamRuleSuccess { rule { comments } }`;
    expect(await mutate('updateOutboundSpamRule', { name: 'Sales rule', comments: '' }, select)).toEqual({ __typename: 'UpdateOutboundSpamRuleSuccess', rule: { comments: null } });
    expect(await mutate('updateOutboundSpamRule', { name: 'Sales rule', comments: '' }, select)).toEqual({ __typename: 'UpdateOutboundSpamRuleSuccess', rule: { comments: null } });
    expect(await audited('Set-HostedOutboundSpamFilterRule')).toBe(1);
    await mutate('createOutboundSpamPolicy', { name: 'Support' });
    const created = await mutate('createOutboundSpamRule', { name: 'Support rule', policyName: 'Support', from: ['bo@example.com'], comments: '' }, '... on CreateOutboundSpamRuleSuccess { rule { comments } }');
    expect(created).toEqual({ __typename: 'CreateOutboundSpamRuleSuccess', rule: { comments: null } });
  });
});
