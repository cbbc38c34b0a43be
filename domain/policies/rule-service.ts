import type { Db } from '../../db/client.ts';
import {
  countRules,
  deleteRule,
  findPolicyByName,
  findRuleByName,
  findRulesByPolicyIds,
  insertRule,
  lockTenantPolicies,
  shiftRulePriorities,
  updateRule,
  type OutboundSpamRule,
} from '../../db/repos/outbound-spam-policies.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordConfigChange } from '../tenants/config-change.ts';
import type { Clock } from '../clock.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { actualChanges } from './actual-changes.ts';
import { isUniqueViolation } from './policy-validation.ts';
import { checkedRuleChanges, placeNewRule, ruleNameTakenError, validNewRule, validRuleChanges, type RuleSettings } from './rule-input.ts';

export interface RuleCommand {
  tenantId: string;
  actor: Actor;
  name: string;
}

// Far above any real priority, so a rule being moved never collides with the rows that shift.
const PARKED = 2_147_483_647;

/** Deletes a rule and closes the gap it leaves, in the caller's transaction (tenant lock held). */
export async function removeRuleOf(tx: Db, rule: OutboundSpamRule, actor: Actor, at: Date): Promise<void> {
  await deleteRule(tx, rule.id);
  await shiftRulePriorities(tx, rule.tenantId, { from: rule.priority + 1, to: PARKED - 1 }, -1);
  await recordAudit(tx, { tenantId: rule.tenantId, actor, action: 'Remove-HostedOutboundSpamFilterRule', targetKind: 'outboundSpamRule', target: rule.name, before: rule, after: null, at });
  await recordConfigChange(tx, { tenantId: rule.tenantId, type: 'OutboundSpamRuleChanged', target: rule.name, actor, at });
}

async function moveRule(tx: Db, rule: OutboundSpamRule, to: number): Promise<void> {
  if (to === rule.priority) return;
  await updateRule(tx, rule.id, { priority: PARKED });
  if (to < rule.priority) await shiftRulePriorities(tx, rule.tenantId, { from: to, to: rule.priority - 1 }, 1);
  else await shiftRulePriorities(tx, rule.tenantId, { from: rule.priority + 1, to }, -1);
}

/** Outbound spam rules (HostedOutboundSpamFilterRule): who a non-default policy applies to, in priority order. */
export function createRuleService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function existingRule(tx: Db, tenantId: string, name: string): Promise<OutboundSpamRule> {
    const rule = await findRuleByName(tx, tenantId, name.trim());
    if (!rule) throw new NotFoundError('outbound spam rule', name);
    return rule;
  }

  async function create(cmd: RuleCommand & { policyName: string; settings: RuleSettings }): Promise<OutboundSpamRule> {
    const { name, conditions, comments } = validNewRule(cmd);
    try {
      return await db.transaction(async (tx) => {
        await lockTenantPolicies(tx, cmd.tenantId);
        const found = await findPolicyByName(tx, cmd.tenantId, cmd.policyName.trim());
        const { policy, priority } = placeNewRule(
          { policyName: cmd.policyName, priority: cmd.settings.priority, conditions },
          {
            policy: found,
            policyHasRule: found !== undefined && (await findRulesByPolicyIds(tx, cmd.tenantId, [found.id])).length > 0,
            sameName: await findRuleByName(tx, cmd.tenantId, name),
            ruleCount: await countRules(tx, cmd.tenantId),
          },
        );
        const at = clock.now();
        await shiftRulePriorities(tx, cmd.tenantId, { from: priority, to: PARKED - 1 }, 1);
        const rule = await insertRule(tx, { ...conditions, tenantId: cmd.tenantId, policyId: policy.id, name, priority, enabled: cmd.settings.enabled ?? true, comments, createdAt: at, updatedAt: at });
        await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'New-HostedOutboundSpamFilterRule', targetKind: 'outboundSpamRule', target: name, before: null, after: rule, at });
        await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamRuleChanged', target: name, actor: cmd.actor, at });
        return rule;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw ruleNameTakenError(name);
      throw err;
    }
  }

  async function update(cmd: RuleCommand & { settings: RuleSettings }): Promise<OutboundSpamRule> {
    const wanted = validRuleChanges(cmd.settings);
    return db.transaction(async (tx) => {
      await lockTenantPolicies(tx, cmd.tenantId);
      const before = await existingRule(tx, cmd.tenantId, cmd.name);
      const { priority } = cmd.settings;
      // The rules are counted only for a rule that moves.
      const changes = checkedRuleChanges(before, wanted, priority == null ? undefined : { priority, ruleCount: await countRules(tx, cmd.tenantId) });
      const changed = actualChanges(before, changes);
      if (Object.keys(changed).length === 0) return before;
      const at = clock.now();
      if (changed.priority !== undefined) await moveRule(tx, before, changed.priority);
      const after = await updateRule(tx, before.id, { ...changed, updatedAt: at });
      if (!after) throw new NotFoundError('outbound spam rule', cmd.name);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Set-HostedOutboundSpamFilterRule', targetKind: 'outboundSpamRule', target: after.name, before, after, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamRuleChanged', target: after.name, actor: cmd.actor, at });
      return after;
    });
  }

  async function remove(cmd: RuleCommand): Promise<OutboundSpamRule> {
    return db.transaction(async (tx) => {
      await lockTenantPolicies(tx, cmd.tenantId);
      const rule = await existingRule(tx, cmd.tenantId, cmd.name);
      await removeRuleOf(tx, rule, cmd.actor, clock.now());
      return rule;
    });
  }

  return { create, update, remove };
}

export type RuleService = ReturnType<typeof createRuleService>;
