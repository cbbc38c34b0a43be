import { Option, type Command } from 'commander';
import { z } from 'zod';
import { checkedRuleChanges, placeNewRule, validNewRule, validRuleChanges } from '../../domain/policies/rule-input.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import { findByName, givenIdentity } from './identity.ts';
import { parseBoolean, parseChoice, parseList, parseWholeNumber } from './option-values.ts';
import { describeChanges, type Row } from './output.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

const conditionNames = ['from', 'fromMemberOf', 'senderDomainIs', 'exceptIfFrom', 'exceptIfFromMemberOf', 'exceptIfSenderDomainIs'] as const;
type ConditionName = (typeof conditionNames)[number];

const RULE_FIELDS = `name priority enabled ${conditionNames.join(' ')} comments createdAt updatedAt policy { name }`;

const outboundSpamRule = z.object({
  name: z.string(),
  priority: z.number(),
  enabled: z.boolean(),
  from: z.array(z.string()),
  fromMemberOf: z.array(z.string()),
  senderDomainIs: z.array(z.string()),
  exceptIfFrom: z.array(z.string()),
  exceptIfFromMemberOf: z.array(z.string()),
  exceptIfSenderDomainIs: z.array(z.string()),
  comments: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  policy: z.object({ name: z.string() }),
});
type OutboundSpamRule = z.infer<typeof outboundSpamRule>;

// Rules are reached through their policies: one rule per policy.
const LIST = `query GetHostedOutboundSpamFilterRule { outboundSpamPolicies { name isDefault rule { ${RULE_FIELDS} } } }`;
const policyWithRule = z.object({ name: z.string(), isDefault: z.boolean(), rule: outboundSpamRule.nullable() });
type PolicyWithRule = z.infer<typeof policyWithRule>;
const mutation = (name: 'createOutboundSpamRule' | 'updateOutboundSpamRule' | 'deleteOutboundSpamRule', input: string) => `mutation ($input: ${input}!) {
  ${name}(input: $input) { ${ERROR_SELECTION} ... on ${name.charAt(0).toUpperCase()}${name.slice(1)}Success { rule { ${RULE_FIELDS} } } }
}`;

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Get-HostedOutboundSpamFilterRule's property names and values. */
function toExchange(r: OutboundSpamRule): Row {
  return {
    Name: r.name,
    State: r.enabled ? 'Enabled' : 'Disabled',
    Priority: r.priority,
    HostedOutboundSpamFilterPolicy: r.policy.name,
    ...Object.fromEntries(conditionNames.map((c) => [pascal(c), r[c]])),
    Comments: r.comments,
    WhenCreated: r.createdAt,
    WhenChanged: r.updatedAt,
  };
}

const COLUMNS = ['Name', 'State', 'Priority', 'HostedOutboundSpamFilterPolicy'];

async function listPolicies(api: GraphQLClient): Promise<PolicyWithRule[]> {
  return (await api.request(LIST, {}, z.object({ outboundSpamPolicies: z.array(policyWithRule) }))).outboundSpamPolicies;
}

const rulesOf = (policies: readonly PolicyWithRule[]) => policies.flatMap((p) => (p.rule ? [p.rule] : [])).sort((a, b) => a.priority - b.priority);

const listRules = async (api: GraphQLClient) => rulesOf(await listPolicies(api));

function ruleNamed(rules: readonly OutboundSpamRule[], identity: string): OutboundSpamRule {
  const found = findByName(rules, identity);
  if (!found) throw new CliError(ExitCode.notFound, `there is no outbound spam rule "${identity}" (get-hosted-outbound-spam-filter-rule lists them)`);
  return found;
}

const findRule = async (api: GraphQLClient, identity: string) => ruleNamed(await listRules(api), identity);

type RuleOptions = Partial<Record<ConditionName, string[]>> & { priority?: number; enabled?: boolean; comments?: string };

function ruleOptions(command: Command): Command {
  command.option('--priority <n>', '0 is evaluated first; the rules at and below it move down', parseWholeNumber(0, 100_000));
  for (const c of conditionNames) {
    const kebab = c.replace(/[A-Z]/g, (l) => `-${l.toLowerCase()}`);
    const what = c.endsWith('MemberOf') ? 'groups' : c.endsWith('DomainIs') ? 'domains (subdomains included)' : 'addresses';
    command.addOption(new Option(`--${kebab} <list>`, `${c.startsWith('except') ? 'exception' : 'condition'}: ${what}, comma-separated ("" clears)`).argParser(parseList));
  }
  return command.option('--comments <text>', 'a note for admins');
}

/** Only what was given, so the server keeps the rest. */
function settingsInput(o: RuleOptions): Record<string, unknown> {
  const all: Record<string, unknown> = { priority: o.priority, enabled: o.enabled, comments: o.comments, ...Object.fromEntries(conditionNames.map((c) => [c, o[c]])) };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** The rule as it would be after the change (the server still validates it). */
function preview(r: OutboundSpamRule, o: RuleOptions): OutboundSpamRule {
  return {
    ...r,
    priority: o.priority ?? r.priority,
    enabled: o.enabled ?? r.enabled,
    // "" clears them: the rule then has none (null), as the server keeps it.
    comments: o.comments === '' ? null : (o.comments ?? r.comments),
    from: o.from ?? r.from,
    fromMemberOf: o.fromMemberOf ?? r.fromMemberOf,
    senderDomainIs: o.senderDomainIs ?? r.senderDomainIs,
    exceptIfFrom: o.exceptIfFrom ?? r.exceptIfFrom,
    exceptIfFromMemberOf: o.exceptIfFromMemberOf ?? r.exceptIfFromMemberOf,
    exceptIfSenderDomainIs: o.exceptIfSenderDomainIs ?? r.exceptIfSenderDomainIs,
  };
}

function whatIfChanges(current: OutboundSpamRule, options: RuleOptions): string {
  const changes = describeChanges(toExchange(current), toExchange(preview(current, options)));
  return changes.length > 0 ? `\n  ${changes.join('\n  ')}` : 'nothing would change.';
}

async function mutate(api: GraphQLClient, name: Parameters<typeof mutation>[0], inputType: string, input: Record<string, unknown>): Promise<OutboundSpamRule> {
  const data = await api.request(mutation(name, inputType), { input }, z.object({ [name]: z.unknown() }));
  return successOr(data[name], z.object({ rule: outboundSpamRule })).rule;
}

function identityOf(options: { identity?: string }, positional: string | undefined): string {
  const identity = givenIdentity(options, positional, 'rule');
  if (!identity) throw new CliError(ExitCode.usage, 'say which rule: --identity <name>');
  return identity;
}

const identityOptions = (c: Command) => c.argument('[identity]', 'rule name').option('--identity <name>', 'rule name');

function registerGet(program: Command): void {
  const spec = { name: 'get-hosted-outbound-spam-filter-rule', cmdlet: 'Get-HostedOutboundSpamFilterRule', description: 'list the outbound spam rules by priority, or one of them' };
  const command = defineVerb(program, spec, (c) => identityOptions(c).option('--state <state>', 'only Enabled or Disabled rules', parseChoice(['Enabled', 'Disabled'] as const)));
  onRun<{ identity?: string; state?: 'Enabled' | 'Disabled' }>(command, async ({ api, out }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'rule');
    const rules = identity ? [await findRule(api, identity)] : await listRules(api);
    out.list(rules.map(toExchange).filter((r) => !options.state || r.State === options.state), COLUMNS);
  });
}

function registerNew(program: Command): void {
  const spec = { name: 'new-hosted-outbound-spam-filter-rule', cmdlet: 'New-HostedOutboundSpamFilterRule', description: 'create the rule that applies an outbound spam policy to some senders', effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) =>
    ruleOptions(c.requiredOption('--name <name>', 'the new rule’s name').requiredOption('--hosted-outbound-spam-filter-policy <policy>', 'the (non-default) policy it applies')).option(
      '--enabled <bool>',
      'start enabled (default true)',
      parseBoolean,
    ),
  );
  onRun<RuleOptions & { name: string; hostedOutboundSpamFilterPolicy: string }>(command, async ({ api, out, whatIf }, options) => {
    const input = { name: options.name, policyName: options.hostedOutboundSpamFilterPolicy, ...settingsInput(options) };
    if (whatIf) {
      const policies = await listPolicies(api);
      await checkWhatIf(api, 'createOutboundSpamRule', () => {
        const { name, conditions } = validNewRule({ name: options.name, settings: options });
        const policy = findByName(policies, options.hostedOutboundSpamFilterPolicy);
        const rules = rulesOf(policies);
        const place = { policy, policyHasRule: policy?.rule != null, sameName: findByName(rules, name), ruleCount: rules.length };
        placeNewRule({ policyName: options.hostedOutboundSpamFilterPolicy, priority: options.priority, conditions }, place);
      });
      return out.note(`What if: Creating outbound spam rule "${options.name}" for policy "${options.hostedOutboundSpamFilterPolicy}". Nothing was changed.`);
    }
    out.record(toExchange(await mutate(api, 'createOutboundSpamRule', 'CreateOutboundSpamRuleInput', input)));
  });
}

function registerSet(program: Command, verb: { name: string; cmdlet: string; description: string; enabled?: boolean }): void {
  const command = defineVerb(program, { ...verb, effect: 'changes' }, (c) =>
    verb.enabled === undefined ? ruleOptions(identityOptions(c)).option('--enabled <bool>', 'turn the rule on or off', parseBoolean) : identityOptions(c),
  );
  onRun<RuleOptions & { identity?: string }>(command, async ({ api, out, whatIf }, options, [positional]) => {
    const identity = identityOf(options, positional);
    const wanted = { ...options, enabled: verb.enabled ?? options.enabled };
    const settings = settingsInput(wanted);
    if (Object.keys(settings).length === 0) throw new CliError(ExitCode.usage, 'nothing to change: give --priority, --enabled, a condition, an exception or --comments');
    const rules = await listRules(api);
    const current = ruleNamed(rules, identity);
    if (whatIf) {
      await checkWhatIf(api, 'updateOutboundSpamRule', () => {
        checkedRuleChanges(current, validRuleChanges(wanted), wanted.priority == null ? undefined : { priority: wanted.priority, ruleCount: rules.length });
      });
      return out.note(`What if: Changing outbound spam rule "${current.name}": ${whatIfChanges(current, wanted)}`);
    }
    out.record(toExchange(await mutate(api, 'updateOutboundSpamRule', 'UpdateOutboundSpamRuleInput', { name: current.name, ...settings })));
  });
}

function registerRemove(program: Command): void {
  const spec = { name: 'remove-hosted-outbound-spam-filter-rule', cmdlet: 'Remove-HostedOutboundSpamFilterRule', description: 'delete an outbound spam rule (its policy then applies to nobody)', effect: 'destructive' } as const;
  const command = defineVerb(program, spec, identityOptions);
  onRun<{ identity?: string }>(command, async ({ api, out, whatIf, confirm }, options, [positional]) => {
    const current = await findRule(api, identityOf(options, positional));
    const description = `Deleting outbound spam rule "${current.name}" (priority ${current.priority}, policy "${current.policy.name}").`;
    if (whatIf) {
      await checkWhatIf(api, 'deleteOutboundSpamRule');
      return out.note(`What if: ${description} Nothing was changed.`);
    }
    await confirm(description);
    out.record(toExchange(await mutate(api, 'deleteOutboundSpamRule', 'DeleteOutboundSpamRuleInput', { name: current.name })));
    out.note(`Deleted outbound spam rule "${current.name}".`);
  });
}

export function registerOutboundSpamRuleVerbs(program: Command): void {
  registerGet(program);
  registerNew(program);
  registerSet(program, { name: 'set-hosted-outbound-spam-filter-rule', cmdlet: 'Set-HostedOutboundSpamFilterRule', description: "change an outbound spam rule's priority, state, conditions or exceptions" });
  registerSet(program, { name: 'enable-hosted-outbound-spam-filter-rule', cmdlet: 'Enable-HostedOutboundSpamFilterRule', description: 'turn an outbound spam rule on', enabled: true });
  registerSet(program, { name: 'disable-hosted-outbound-spam-filter-rule', cmdlet: 'Disable-HostedOutboundSpamFilterRule', description: 'turn an outbound spam rule off', enabled: false });
  registerRemove(program);
}
