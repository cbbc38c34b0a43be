import type { ServiceLimits } from '../../config/load-config.ts';
import type { OutboundSpamPolicy, OutboundSpamRule } from '../../db/repos/outbound-spam-policies.ts';
import { canonicalAddress, canonicalDomain, domainOf } from '../mail-address.ts';

export type PolicyAction = OutboundSpamPolicy['actionWhenThresholdReached'];

export type PolicyFacts = Pick<
  OutboundSpamPolicy,
  'id' | 'name' | 'isDefault' | 'recipientLimitExternalPerHour' | 'recipientLimitInternalPerHour' | 'recipientLimitPerDay' | 'actionWhenThresholdReached'
>;

export type RuleFacts = Pick<
  OutboundSpamRule,
  'id' | 'policyId' | 'name' | 'priority' | 'enabled' | 'from' | 'fromMemberOf' | 'senderDomainIs' | 'exceptIfFrom' | 'exceptIfFromMemberOf' | 'exceptIfSenderDomainIs'
>;

export type ConditionKind = 'from' | 'fromMemberOf' | 'senderDomainIs';

/** One condition value that matched the sender (e.g. `senderDomainIs: contoso.com`). */
export interface MatchedCondition {
  kind: ConditionKind;
  value: string;
}

/** Which policy applies to a sender, and why. */
export interface PolicyChoice {
  policy: PolicyFacts;
  /** The rule that selected the policy; null when the default policy applies. */
  rule: { id: string; name: string; priority: number } | null;
  /** One matched value per condition kind the rule uses; empty for the default policy. */
  matched: MatchedCondition[];
}

export interface SenderFacts {
  /** The sender address (From / envelope sender), any case. */
  address: string;
  /** Groups the sender belongs to (addresses, any case), directly or through nested groups. */
  groups: ReadonlySet<string>;
}

export interface EffectiveLimits {
  externalPerHour: number;
  internalPerHour: number;
  perDay: number;
  action: PolicyAction;
}

export class NoDefaultPolicyError extends Error {
  constructor() {
    super('the tenant has no default outbound spam policy');
  }
}

/** `mail.contoso.com` is within `contoso.com`; `badcontoso.com` is not. */
export function isWithinDomain(domain: string, parent: string): boolean {
  const d = canonicalDomain(domain);
  const p = canonicalDomain(parent);
  return d === p || d.endsWith(`.${p}`);
}

function firstMatch(kind: ConditionKind, values: readonly string[], sender: SenderFacts): MatchedCondition | undefined {
  const address = canonicalAddress(sender.address);
  const domain = domainOf(address);
  const value = values.find((v) => {
    if (kind === 'from') return canonicalAddress(v) === address;
    if (kind === 'fromMemberOf') return sender.groups.has(canonicalAddress(v));
    return domain !== '' && isWithinDomain(domain, v);
  });
  return value === undefined ? undefined : { kind, value };
}

/**
 * Conditions of different kinds AND together, values within one kind OR together; any matching
 * exception excludes the sender. Returns the matched values, or undefined when the rule does not apply.
 */
export function matchRule(rule: RuleFacts, sender: SenderFacts): MatchedCondition[] | undefined {
  const exceptions: [ConditionKind, readonly string[]][] = [
    ['from', rule.exceptIfFrom],
    ['fromMemberOf', rule.exceptIfFromMemberOf],
    ['senderDomainIs', rule.exceptIfSenderDomainIs],
  ];
  if (exceptions.some(([kind, values]) => firstMatch(kind, values, sender))) return undefined;
  const conditions: [ConditionKind, readonly string[]][] = [
    ['from', rule.from],
    ['fromMemberOf', rule.fromMemberOf],
    ['senderDomainIs', rule.senderDomainIs],
  ];
  const matched: MatchedCondition[] = [];
  for (const [kind, values] of conditions) {
    if (values.length === 0) continue;
    const hit = firstMatch(kind, values, sender);
    if (!hit) return undefined;
    matched.push(hit);
  }
  return matched;
}

/**
 * The policy that applies to a sender: the first enabled rule by priority (0 highest) whose
 * conditions match, else the tenant's default policy.
 */
export function selectPolicy(sender: SenderFacts, policies: readonly PolicyFacts[], rules: readonly RuleFacts[]): PolicyChoice {
  const byId = new Map(policies.map((p) => [p.id, p]));
  const ordered = rules.filter((r) => r.enabled && byId.has(r.policyId)).sort((a, b) => a.priority - b.priority);
  for (const rule of ordered) {
    const matched = matchRule(rule, sender);
    const policy = byId.get(rule.policyId);
    if (matched && policy) return { policy, rule: { id: rule.id, name: rule.name, priority: rule.priority }, matched };
  }
  const fallback = policies.find((p) => p.isDefault);
  if (!fallback) throw new NoDefaultPolicyError();
  return { policy: fallback, rule: null, matched: [] };
}

/** A policy's limits with 0 replaced by the service default. */
export function resolveLimits(policy: PolicyFacts, service: Pick<ServiceLimits, 'externalPerHour' | 'internalPerHour' | 'recipientsPerDay'>): EffectiveLimits {
  return {
    externalPerHour: policy.recipientLimitExternalPerHour || service.externalPerHour,
    internalPerHour: policy.recipientLimitInternalPerHour || service.internalPerHour,
    perDay: policy.recipientLimitPerDay || service.recipientsPerDay,
    action: policy.actionWhenThresholdReached,
  };
}

/** A sentence for admins: why this policy applies to the sender. */
export function describeChoice(choice: PolicyChoice): string {
  if (!choice.rule) return `No enabled rule matches the sender, so the default policy "${choice.policy.name}" applies.`;
  const conditions = choice.matched.map((m) => `${m.kind} ${m.value}`).join(' and ');
  const because = conditions ? ` because the sender matches ${conditions}` : ' (the rule has no conditions)';
  return `Rule "${choice.rule.name}" (priority ${choice.rule.priority}) selects policy "${choice.policy.name}"${because}.`;
}

export interface GroupMembership {
  groupAddress: string;
  memberAddress: string;
}

/** Every group the address belongs to, following nested groups (cycles are harmless). */
export function groupsOf(address: string, memberships: readonly GroupMembership[]): Set<string> {
  const parents = new Map<string, string[]>();
  for (const m of memberships) {
    const member = canonicalAddress(m.memberAddress);
    parents.set(member, [...(parents.get(member) ?? []), canonicalAddress(m.groupAddress)]);
  }
  const found = new Set<string>();
  const pending = [canonicalAddress(address)];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const group of parents.get(next) ?? []) {
      if (found.has(group)) continue;
      found.add(group);
      pending.push(group);
    }
  }
  return found;
}
