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
  type RuleChanges,
} from '../../db/repos/outbound-spam-policies.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordConfigChange } from '../tenants/config-change.ts';
import type { Clock } from '../clock.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { actualChanges } from './actual-changes.ts';
import { isUniqueViolation, validAddresses, validDomains, validName, validText } from './policy-validation.ts';

export interface RuleConditions {
  from?: readonly string[] | undefined;
  fromMemberOf?: readonly string[] | undefined;
  senderDomainIs?: readonly string[] | undefined;
  exceptIfFrom?: readonly string[] | undefined;
  exceptIfFromMemberOf?: readonly string[] | undefined;
  exceptIfSenderDomainIs?: readonly string[] | undefined;
}

export interface RuleSettings extends RuleConditions {
  /** 0 is evaluated first; others move down (insert) or close up (delete, move) to keep 0..n-1. */
  priority?: number | undefined;
  enabled?: boolean | undefined;
  comments?: string | undefined;
}

export interface RuleCommand {
  tenantId: string;
  actor: Actor;
  name: string;
}

// Far above any real priority, so a rule being moved never collides with the rows that shift.
const PARKED = 2_147_483_647;

function validConditions(c: RuleConditions): RuleChanges {
  const out: RuleChanges = {};
  if (c.from) out.from = validAddresses('from', c.from);
  if (c.fromMemberOf) out.fromMemberOf = validAddresses('fromMemberOf', c.fromMemberOf);
  if (c.senderDomainIs) out.senderDomainIs = validDomains('senderDomainIs', c.senderDomainIs);
  if (c.exceptIfFrom) out.exceptIfFrom = validAddresses('exceptIfFrom', c.exceptIfFrom);
  if (c.exceptIfFromMemberOf) out.exceptIfFromMemberOf = validAddresses('exceptIfFromMemberOf', c.exceptIfFromMemberOf);
  if (c.exceptIfSenderDomainIs) out.exceptIfSenderDomainIs = validDomains('exceptIfSenderDomainIs', c.exceptIfSenderDomainIs);
  return out;
}

function requireCondition(rule: Pick<OutboundSpamRule, 'from' | 'fromMemberOf' | 'senderDomainIs'>): void {
  if (rule.from.length + rule.fromMemberOf.length + rule.senderDomainIs.length === 0) {
    throw new ValidationError('from', 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs');
  }
}

function validPriority(priority: number, highest: number): number {
  if (!Number.isInteger(priority) || priority < 0 || priority > highest) throw new ValidationError('priority', `priority must be a whole number from 0 to ${highest}`);
  return priority;
}

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
    const name = validName('name', cmd.name);
    const conditions = validConditions(cmd.settings);
    const comments = cmd.settings.comments === undefined ? null : validText('comments', cmd.settings.comments, 1000);
    try {
      return await db.transaction(async (tx) => {
        await lockTenantPolicies(tx, cmd.tenantId);
        const policy = await findPolicyByName(tx, cmd.tenantId, cmd.policyName.trim());
        if (!policy) throw new NotFoundError('outbound spam policy', cmd.policyName);
        if (policy.isDefault) throw new ValidationError('policyName', `the ${policy.name} policy applies to everyone else and takes no rule`);
        if ((await findRulesByPolicyIds(tx, cmd.tenantId, [policy.id])).length > 0) throw new ValidationError('policyName', `the policy ${policy.name} already has a rule`);
        const same = await findRuleByName(tx, cmd.tenantId, name);
        if (same) throw new ValidationError('name', `a rule named ${same.name} already exists`);
        const count = await countRules(tx, cmd.tenantId);
        const priority = validPriority(cmd.settings.priority ?? count, count);
        const at = clock.now();
        const values = { from: [], fromMemberOf: [], senderDomainIs: [], ...conditions };
        requireCondition(values);
        await shiftRulePriorities(tx, cmd.tenantId, { from: priority, to: PARKED - 1 }, 1);
        const rule = await insertRule(tx, { ...values, tenantId: cmd.tenantId, policyId: policy.id, name, priority, enabled: cmd.settings.enabled ?? true, comments, createdAt: at, updatedAt: at });
        await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'New-HostedOutboundSpamFilterRule', targetKind: 'outboundSpamRule', target: name, before: null, after: rule, at });
        await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'OutboundSpamRuleChanged', target: name, actor: cmd.actor, at });
        return rule;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationError('name', `a rule named ${name} already exists`);
      throw err;
    }
  }

  async function update(cmd: RuleCommand & { settings: RuleSettings }): Promise<OutboundSpamRule> {
    const changes = validConditions(cmd.settings);
    if (cmd.settings.enabled != null) changes.enabled = cmd.settings.enabled;
    if (cmd.settings.comments !== undefined) changes.comments = validText('comments', cmd.settings.comments, 1000);
    return db.transaction(async (tx) => {
      await lockTenantPolicies(tx, cmd.tenantId);
      const before = await existingRule(tx, cmd.tenantId, cmd.name);
      requireCondition({ ...before, ...changes } as OutboundSpamRule);
      if (cmd.settings.priority != null) changes.priority = validPriority(cmd.settings.priority, (await countRules(tx, cmd.tenantId)) - 1);
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
