import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { OutboundSpamRule } from '../../db/repos/outbound-spam-policies.ts';
import type { GraphQLContext } from '../context.ts';

/**
 * The rule of each policy, by policy id, batched per request. A mutation that deleted a policy
 * primes it with the rule deleted along with it, so the response shows both as they were.
 */
export const ruleOfPolicy = createContextCache(
  (ctx: GraphQLContext) =>
    new DataLoader<string, OutboundSpamRule | null>(async (policyIds) => {
      const rules = await ctx.services.policies.rulesOf(ctx.viewer.tenantId, policyIds);
      return policyIds.map((id) => rules.find((r) => r.policyId === id) ?? null);
    }),
);
