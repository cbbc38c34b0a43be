import type { OutboundSpamPolicy, OutboundSpamRule, RuleChanges } from '../../db/repos/outbound-spam-policies.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { NotFoundError } from '../tenants/errors.ts';
import { validAddresses, validDomains, validName, validText } from './policy-validation.ts';

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

type Conditions = Pick<OutboundSpamRule, 'from' | 'fromMemberOf' | 'senderDomainIs'>;

const MAX_COMMENTS = 1000;

/** A rule's comments; "" clears them, so a rule whose comments were cleared reads as one that never had any. */
function validComments(comments: string): string | null {
  return comments === '' ? null : validText('comments', comments, MAX_COMMENTS);
}

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

function requireCondition(rule: Conditions): void {
  if (rule.from.length + rule.fromMemberOf.length + rule.senderDomainIs.length === 0) {
    throw new ValidationError('from', 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs');
  }
}

function validPriority(priority: number, highest: number): number {
  if (!Number.isInteger(priority) || priority < 0 || priority > highest) throw new ValidationError('priority', `priority must be a whole number from 0 to ${highest}`);
  return priority;
}

/** A new rule's name, conditions and comments, checked before anything is looked up; the CLI's `--what-if` checks them too. */
export function validNewRule(input: { name: string; settings: RuleSettings }): { name: string; conditions: Conditions & RuleChanges; comments: string | null } {
  const name = validName('name', input.name);
  const conditions = { from: [], fromMemberOf: [], senderDomainIs: [], ...validConditions(input.settings) };
  const comments = input.settings.comments === undefined ? null : validComments(input.settings.comments);
  return { name, conditions, comments };
}

/** What the tenant has that decides where a new rule may go. */
export interface RulePlace<P> {
  /** The policy the rule would apply, found by name in any case. */
  policy: P | undefined;
  policyHasRule: boolean;
  /** A rule already named as the new one, in any case. */
  sameName: Pick<OutboundSpamRule, 'name'> | undefined;
  ruleCount: number;
}

/**
 * Checks a new rule (`validNewRule`'s) against the tenant's policies and rules, in the order the
 * server does; returns its policy and priority. The CLI's `--what-if` checks it on what it listed.
 */
export function placeNewRule<P extends Pick<OutboundSpamPolicy, 'name' | 'isDefault'>>(
  rule: { policyName: string; priority?: number | undefined; conditions: Conditions },
  place: RulePlace<P>,
): { policy: P; priority: number } {
  const { policy } = place;
  if (!policy) throw new NotFoundError('outbound spam policy', rule.policyName);
  if (policy.isDefault) throw new ValidationError('policyName', `the ${policy.name} policy applies to everyone else and takes no rule`);
  if (place.policyHasRule) throw new ValidationError('policyName', `the policy ${policy.name} already has a rule`);
  if (place.sameName) throw ruleNameTakenError(place.sameName.name);
  const priority = validPriority(rule.priority ?? place.ruleCount, place.ruleCount);
  requireCondition(rule.conditions);
  return { policy, priority };
}

/** The refusal of a new rule named as one that exists (`existing`: its name as kept). */
export const ruleNameTakenError = (existing: string) => new ValidationError('name', `a rule named ${existing} already exists`);

/** A rule update's conditions, state and comments, checked before the rule is looked up; the CLI's `--what-if` checks them too. */
export function validRuleChanges(settings: RuleSettings): RuleChanges {
  const changes = validConditions(settings);
  if (settings.enabled != null) changes.enabled = settings.enabled;
  if (settings.comments !== undefined) changes.comments = validComments(settings.comments);
  return changes;
}

/**
 * `validRuleChanges`' changes checked against the rule as it is (it keeps a condition) and the
 * number of rules (the priority it moves to); the CLI's `--what-if` checks them on what it listed.
 */
export function checkedRuleChanges(current: Conditions, changes: RuleChanges, move?: { priority: number; ruleCount: number }): RuleChanges {
  requireCondition({ ...current, ...changes } as Conditions);
  return move ? { ...changes, priority: validPriority(move.priority, move.ruleCount - 1) } : changes;
}
