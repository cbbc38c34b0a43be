import { describe, expect, it } from 'vitest';
import {
  describeChoice,
  groupsOf,
  NoDefaultPolicyError,
  resolveLimits,
  selectPolicy,
  type PolicyFacts,
  type RuleFacts,
} from '../../domain/policies/select-policy.ts';

function policy(name: string, extra: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    id: `p-${name}`,
    name,
    isDefault: false,
    recipientLimitExternalPerHour: 0,
    recipientLimitInternalPerHour: 0,
    recipientLimitPerDay: 0,
    actionWhenThresholdReached: 'BlockUserForToday',
    ...extra,
  };
}

function rule(policyName: string, priority: number, conditions: Partial<RuleFacts> = {}): RuleFacts {
  return {
    id: `r-${policyName}`,
    policyId: `p-${policyName}`,
    name: `${policyName} rule`,
    priority,
    enabled: true,
    from: [],
    fromMemberOf: [],
    senderDomainIs: [],
    exceptIfFrom: [],
    exceptIfFromMemberOf: [],
    exceptIfSenderDomainIs: [],
    ...conditions,
  };
}

const policies = ['Default', 'A', 'B', 'C'].map((n) => policy(n, { isDefault: n === 'Default' }));
const memberships = [
  { groupAddress: 'sales@contoso.com', memberAddress: 'ann@contoso.com' },
  { groupAddress: 'emea@contoso.com', memberAddress: 'sales@contoso.com' },
  { groupAddress: 'interns@contoso.com', memberAddress: 'ivan@contoso.com' },
];

const choose = (address: string, rules: RuleFacts[]) => selectPolicy({ address, groups: groupsOf(address, memberships) }, policies, rules);

describe('selecting the outbound spam policy', () => {
  const table: { name: string; sender: string; rules: RuleFacts[]; policy: string; matched?: string[] }[] = [
    { name: 'no rules: the default policy', sender: 'ann@contoso.com', rules: [], policy: 'Default', matched: [] },
    { name: 'from matches, any case', sender: 'Ann@Contoso.com', rules: [rule('A', 0, { from: ['ann@contoso.com'] })], policy: 'A', matched: ['from ann@contoso.com'] },
    { name: 'from: values OR together', sender: 'bob@contoso.com', rules: [rule('A', 0, { from: ['ann@contoso.com', 'bob@contoso.com'] })], policy: 'A' },
    { name: 'from does not match', sender: 'carl@contoso.com', rules: [rule('A', 0, { from: ['ann@contoso.com'] })], policy: 'Default' },
    { name: 'fromMemberOf: direct member', sender: 'ann@contoso.com', rules: [rule('A', 0, { fromMemberOf: ['sales@contoso.com'] })], policy: 'A', matched: ['fromMemberOf sales@contoso.com'] },
    { name: 'fromMemberOf: member of a nested group', sender: 'ann@contoso.com', rules: [rule('A', 0, { fromMemberOf: ['EMEA@contoso.com'] })], policy: 'A' },
    { name: 'fromMemberOf: not a member', sender: 'bob@contoso.com', rules: [rule('A', 0, { fromMemberOf: ['sales@contoso.com'] })], policy: 'Default' },
    { name: 'senderDomainIs: the domain', sender: 'bob@contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'] })], policy: 'A', matched: ['senderDomainIs contoso.com'] },
    { name: 'senderDomainIs: a subdomain', sender: 'bob@mail.eu.contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'] })], policy: 'A' },
    { name: 'senderDomainIs: a look-alike is not a subdomain', sender: 'bob@badcontoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'] })], policy: 'Default' },
    {
      name: 'different conditions AND: both match',
      sender: 'ann@contoso.com',
      rules: [rule('A', 0, { fromMemberOf: ['sales@contoso.com'], senderDomainIs: ['contoso.com'] })],
      policy: 'A',
      matched: ['fromMemberOf sales@contoso.com', 'senderDomainIs contoso.com'],
    },
    { name: 'different conditions AND: one fails', sender: 'ann@contoso.com', rules: [rule('A', 0, { from: ['ann@contoso.com'], senderDomainIs: ['fabrikam.com'] })], policy: 'Default' },
    {
      name: 'all three conditions AND',
      sender: 'ann@contoso.com',
      rules: [rule('A', 0, { from: ['zed@contoso.com', 'ann@contoso.com'], fromMemberOf: ['nobody@contoso.com', 'emea@contoso.com'], senderDomainIs: ['fabrikam.com', 'contoso.com'] })],
      policy: 'A',
      matched: ['from ann@contoso.com', 'fromMemberOf emea@contoso.com', 'senderDomainIs contoso.com'],
    },
    { name: 'exception from excludes', sender: 'ann@contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'], exceptIfFrom: ['ann@contoso.com'] })], policy: 'Default' },
    { name: 'exception fromMemberOf excludes', sender: 'ivan@contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'], exceptIfFromMemberOf: ['interns@contoso.com'] })], policy: 'Default' },
    { name: 'exception senderDomainIs covers subdomains', sender: 'bob@eu.contoso.com', rules: [rule('A', 0, { from: ['bob@eu.contoso.com'], exceptIfSenderDomainIs: ['contoso.com'] })], policy: 'Default' },
    {
      name: 'exceptions OR: one of several matches',
      sender: 'ann@contoso.com',
      rules: [rule('A', 0, { senderDomainIs: ['contoso.com'], exceptIfFrom: ['zed@contoso.com'], exceptIfFromMemberOf: ['sales@contoso.com'] })],
      policy: 'Default',
    },
    { name: 'exception that does not match leaves the rule on', sender: 'bob@contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'], exceptIfFrom: ['ann@contoso.com'] })], policy: 'A' },
    {
      name: 'first match by priority wins (0 is highest), whatever the order given',
      sender: 'ann@contoso.com',
      rules: [rule('B', 2, { senderDomainIs: ['contoso.com'] }), rule('A', 1, { from: ['ann@contoso.com'] }), rule('C', 3, { from: ['ann@contoso.com'] })],
      policy: 'A',
    },
    {
      name: 'a higher-priority rule that does not match is skipped',
      sender: 'bob@contoso.com',
      rules: [rule('A', 0, { from: ['ann@contoso.com'] }), rule('B', 1, { senderDomainIs: ['contoso.com'] })],
      policy: 'B',
    },
    {
      name: 'a disabled rule is skipped',
      sender: 'ann@contoso.com',
      rules: [rule('A', 0, { from: ['ann@contoso.com'], enabled: false }), rule('B', 1, { senderDomainIs: ['contoso.com'] })],
      policy: 'B',
    },
    { name: 'only disabled rules: the default policy', sender: 'ann@contoso.com', rules: [rule('A', 0, { from: ['ann@contoso.com'], enabled: false })], policy: 'Default' },
    { name: 'a rule of a deleted policy is ignored', sender: 'ann@contoso.com', rules: [rule('Gone', 0, { from: ['ann@contoso.com'] })], policy: 'Default' },
    { name: 'an excluded sender falls through to the next rule', sender: 'ann@contoso.com', rules: [rule('A', 0, { senderDomainIs: ['contoso.com'], exceptIfFrom: ['ann@contoso.com'] }), rule('B', 1, { fromMemberOf: ['sales@contoso.com'] })], policy: 'B' },
  ];

  it.each(table)('$name → $policy', ({ sender, rules, policy: expected, matched }) => {
    const choice = choose(sender, rules);
    expect(choice.policy.name).toBe(expected);
    expect(choice.rule === null).toBe(expected === 'Default');
    if (matched) expect(choice.matched.map((m) => `${m.kind} ${m.value}`)).toEqual(matched);
  });

  it('says why a policy applies', () => {
    expect(describeChoice(choose('ann@contoso.com', [rule('A', 0, { from: ['ann@contoso.com'], senderDomainIs: ['contoso.com'] })]))).toBe(
      'Rule "A rule" (priority 0) selects policy "A" because the sender matches from ann@contoso.com and senderDomainIs contoso.com.',
    );
    expect(describeChoice(choose('ann@contoso.com', []))).toBe('No enabled rule matches the sender, so the default policy "Default" applies.');
  });

  it('refuses to guess when the tenant has no default policy', () => {
    expect(() => selectPolicy({ address: 'ann@contoso.com', groups: new Set() }, [policy('A')], [])).toThrow(NoDefaultPolicyError);
  });

  it('follows nested groups without looping on cycles', () => {
    const cyclic = [
      { groupAddress: 'a@x.test', memberAddress: 'b@x.test' },
      { groupAddress: 'b@x.test', memberAddress: 'a@x.test' },
      { groupAddress: 'b@x.test', memberAddress: 'user@x.test' },
    ];
    expect([...groupsOf('USER@x.test', cyclic)].sort()).toEqual(['a@x.test', 'b@x.test']);
  });
});

describe('resolving limits', () => {
  const service = { externalPerHour: 500, internalPerHour: 10_000, recipientsPerDay: 10_000 };
  it.each([
    { given: [0, 0, 0], expected: [500, 10_000, 10_000] },
    { given: [100, 0, 0], expected: [100, 10_000, 10_000] },
    { given: [0, 250, 0], expected: [500, 250, 10_000] },
    { given: [0, 0, 1000], expected: [500, 10_000, 1000] },
    { given: [1, 2, 3], expected: [1, 2, 3] },
  ])('policy $given (external/h, internal/h, day) → $expected', ({ given, expected }) => {
    const [ext, int, day] = given as [number, number, number];
    const limits = resolveLimits(policy('P', { recipientLimitExternalPerHour: ext, recipientLimitInternalPerHour: int, recipientLimitPerDay: day, actionWhenThresholdReached: 'Alert' }), service);
    expect([limits.externalPerHour, limits.internalPerHour, limits.perDay, limits.action]).toEqual([...expected, 'Alert']);
  });
});
