import type { Db } from '../../db/client.ts';
import {
  deletePolicy,
  findPoliciesByIds,
  findPolicyByName,
  findRulesByIds,
  findRulesByPolicyIds,
  insertPolicy,
  listPolicies,
  listRules,
  lockTenantPolicies,
  updatePolicy,
  type OutboundSpamPolicy,
  type OutboundSpamRule,
} from '../../db/repos/outbound-spam-policies.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordConfigChange } from '../tenants/config-change.ts';
import type { Clock } from '../clock.ts';
import { uuidsOnly } from '../ids.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { actualChanges } from './actual-changes.ts';
import { policyNameTakenError, policyRemovalError, validNewPolicy, validPolicySettings, type PolicySettings } from './policy-input.ts';
import { isUniqueViolation } from './policy-validation.ts';
import { removeRuleOf } from './rule-service.ts';

export interface PolicyCommand {
  tenantId: string;
  actor: Actor;
  /** The policy's name (Exchange's -Identity); the tenant's default policy is `Default`. */
  name: string;
}

async function existingPolicy(tx: Db, tenantId: string, name: string): Promise<OutboundSpamPolicy> {
  const policy = await findPolicyByName(tx, tenantId, name.trim());
  if (!policy) throw new NotFoundError('outbound spam policy', name);
  return policy;
}

/** Outbound spam policies (HostedOutboundSpamFilterPolicy): limits and the action when one is crossed. */
export function createPolicyService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function create(cmd: PolicyCommand & { settings: PolicySettings }): Promise<OutboundSpamPolicy> {
    const { name, settings } = validNewPolicy(cmd);
    try {
      return await db.transaction(async (tx) => {
        await lockTenantPolicies(tx, cmd.tenantId);
        const same = await findPolicyByName(tx, cmd.tenantId, name);
        if (same) throw policyNameTakenError(same.name);
        const at = clock.now();
        const policy = await insertPolicy(tx, { tenantId: cmd.tenantId, name, isDefault: false, ...settings, createdAt: at, updatedAt: at });
        await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'New-HostedOutboundSpamFilterPolicy', targetKind: 'outboundSpamPolicy', target: name, before: null, after: policy, at });
        await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamPolicyChanged', target: name, actor: cmd.actor, at });
        return policy;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw policyNameTakenError(name);
      throw err;
    }
  }

  async function update(cmd: PolicyCommand & { settings: PolicySettings }): Promise<OutboundSpamPolicy> {
    const settings = validPolicySettings(cmd.settings);
    return db.transaction(async (tx) => {
      await lockTenantPolicies(tx, cmd.tenantId);
      const before = await existingPolicy(tx, cmd.tenantId, cmd.name);
      const changes = actualChanges(before, settings);
      if (Object.keys(changes).length === 0) return before;
      const at = clock.now();
      const after = await updatePolicy(tx, before.id, { ...changes, updatedAt: at });
      if (!after) throw new NotFoundError('outbound spam policy', cmd.name);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Set-HostedOutboundSpamFilterPolicy', targetKind: 'outboundSpamPolicy', target: after.name, before, after, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamPolicyChanged', target: after.name, actor: cmd.actor, at });
      return after;
    });
  }

  /**
   * Deletes a policy and its rule (the rules below move up one priority). The default policy stays.
   * Returns both as they were.
   */
  async function remove(cmd: PolicyCommand): Promise<{ policy: OutboundSpamPolicy; rule: OutboundSpamRule | undefined }> {
    return db.transaction(async (tx) => {
      await lockTenantPolicies(tx, cmd.tenantId);
      const policy = await existingPolicy(tx, cmd.tenantId, cmd.name);
      const undeletable = policyRemovalError(policy);
      if (undeletable) throw undeletable;
      const at = clock.now();
      const [rule] = await findRulesByPolicyIds(tx, cmd.tenantId, [policy.id]);
      if (rule) await removeRuleOf(tx, rule, cmd.actor, at);
      await deletePolicy(tx, policy.id);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Remove-HostedOutboundSpamFilterPolicy', targetKind: 'outboundSpamPolicy', target: policy.name, before: policy, after: null, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamPolicyChanged', target: policy.name, actor: cmd.actor, at });
      return { policy, rule };
    });
  }

  /** In the order they are evaluated: policies with rules by rule priority, then those without, the default last. */
  async function list(tenantId: string): Promise<OutboundSpamPolicy[]> {
    const [policies, rules] = await Promise.all([listPolicies(db, tenantId), listRules(db, tenantId)]);
    const rank = new Map(rules.map((r) => [r.policyId, r.priority]));
    const order = (p: OutboundSpamPolicy) => (p.isDefault ? Number.MAX_SAFE_INTEGER : (rank.get(p.id) ?? Number.MAX_SAFE_INTEGER - 1));
    return [...policies].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  }

  return {
    create,
    update,
    remove,
    list,
    byIds: (tenantId: string, ids: readonly string[]) => findPoliciesByIds(db, tenantId, uuidsOnly(ids)),
    rulesOf: (tenantId: string, policyIds: readonly string[]) => findRulesByPolicyIds(db, tenantId, uuidsOnly(policyIds)),
    rulesByIds: (tenantId: string, ids: readonly string[]) => findRulesByIds(db, tenantId, uuidsOnly(ids)),
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
