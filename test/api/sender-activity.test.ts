import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api.stop());

const ACTIVITY = `query($s: String!) { senderActivity(senderAddress: $s) {
  senderAddress appliesBecause restricted recipientsPerMessage
  policy { name } rule { name priority } matchedConditions { condition value }
  counts { internalLastHour externalLastHour allLast24Hours messagesThisMinute }
  usage { limit value count remaining serviceDefault }
} }`;

describe('senderActivity', () => {
  it('shows counts per window against the limits that apply, and which policy applies and why', async () => {
    const tenant = await createTestTenant(api.database);
    const token = await api.token({ tenantId: tenant.id, roles: ['Global Reader'] });
    const manager = await api.token({ tenantId: tenant.id });
    const alice = tenant.address('alice');
    for (const query of [
      'mutation { createOutboundSpamPolicy(input: { name: "Sales", recipientLimitExternalPerHour: 5 }) { __typename } }',
      `mutation { createOutboundSpamRule(input: { name: "Sales rule", policyName: "Sales", from: ["${alice}"] }) { __typename } }`,
    ]) {
      expect((await api.gql(manager, query)).body.errors).toBeUndefined();
    }
    const recipients = ['a@external.example', 'b@external.example', 'c@external.example', tenant.address('colleague')];
    for (const [i, recipient] of recipients.entries()) {
      const decision = await api.services.enforcement.checkRecipient({ sender: alice, recipient, instance: `tx-${i}`, via: 'policy' });
      expect(decision.verdict).toBe('accept');
    }
    const res = await api.gql<{ senderActivity: Record<string, unknown> & { usage: { limit: string }[] } }>(token, ACTIVITY, { s: alice.toUpperCase() });
    expect(res.body.errors).toBeUndefined();
    const activity = res.body.data?.senderActivity;
    expect(activity).toMatchObject({
      senderAddress: alice,
      restricted: false,
      policy: { name: 'Sales' },
      rule: { name: 'Sales rule', priority: 0 },
      matchedConditions: [{ condition: 'FROM', value: alice }],
      counts: { internalLastHour: 1, externalLastHour: 3, allLast24Hours: 4 },
    });
    expect(activity?.appliesBecause).toMatch(/Sales rule/);
    expect(activity?.usage.find((u) => u.limit === 'RECIPIENT_LIMIT_EXTERNAL_PER_HOUR')).toEqual({ limit: 'RECIPIENT_LIMIT_EXTERNAL_PER_HOUR', value: 5, count: 3, remaining: 2, serviceDefault: false });
    expect(activity?.usage.find((u) => u.limit === 'RECIPIENT_LIMIT_PER_DAY')).toMatchObject({ value: 10_000, count: 4, serviceDefault: true });

    const other = await api.gql<{ senderActivity: Record<string, unknown> }>(token, ACTIVITY, { s: tenant.address('bob') });
    expect(other.body.data?.senderActivity).toMatchObject({ policy: { name: 'Default' }, rule: null, matchedConditions: [], counts: { externalLastHour: 0 } });

    const stranger = await createTestTenant(api.database);
    const foreign = await api.gql<{ senderActivity: Record<string, unknown> }>(await api.token({ tenantId: stranger.id }), ACTIVITY, { s: alice });
    expect(foreign.body.data?.senderActivity).toMatchObject({ policy: { name: 'Default' }, rule: null, counts: { internalLastHour: 0, externalLastHour: 0, allLast24Hours: 0 } });
  });
});
