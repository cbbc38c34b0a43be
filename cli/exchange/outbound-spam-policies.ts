import type { Command } from 'commander';
import { z } from 'zod';
import { policyNameTakenError, policyRemovalError, validNewPolicy, validPolicySettings } from '../../domain/policies/policy-input.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import { findByName, givenIdentity } from './identity.ts';
import { parseChoice, parseList, parseWholeNumber } from './option-values.ts';
import { describeChanges, type Row } from './output.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

/** ThresholdAction values: Exchange spelling ↔ GraphQL enum. */
const thresholdActions = { BlockUserForToday: 'BLOCK_USER_FOR_TODAY', BlockUser: 'BLOCK_USER', Alert: 'ALERT' } as const;
type ThresholdAction = keyof typeof thresholdActions;
const exchangeAction = (value: string) => (Object.keys(thresholdActions) as ThresholdAction[]).find((k) => thresholdActions[k] === value) ?? value;

const POLICY_FIELDS = 'name isDefault recipientLimitExternalPerHour recipientLimitInternalPerHour recipientLimitPerDay actionWhenThresholdReached notifyOutboundSpamRecipients createdAt updatedAt';

const outboundSpamPolicy = z.object({
  name: z.string(),
  isDefault: z.boolean(),
  recipientLimitExternalPerHour: z.number(),
  recipientLimitInternalPerHour: z.number(),
  recipientLimitPerDay: z.number(),
  actionWhenThresholdReached: z.string(),
  notifyOutboundSpamRecipients: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
type OutboundSpamPolicy = z.infer<typeof outboundSpamPolicy>;

const LIST = `query GetHostedOutboundSpamFilterPolicy { outboundSpamPolicies { ${POLICY_FIELDS} } }`;
const mutation = (operation: string, name: string, input: string) => `mutation ${operation}($input: ${input}!) {
  ${name}(input: $input) { ${ERROR_SELECTION} ... on ${name.charAt(0).toUpperCase()}${name.slice(1)}Success { policy { ${POLICY_FIELDS} } } }
}`;

/** Get-HostedOutboundSpamFilterPolicy's property names and values. */
function toExchange(p: OutboundSpamPolicy): Row {
  return {
    Name: p.name,
    IsDefault: p.isDefault,
    RecipientLimitExternalPerHour: p.recipientLimitExternalPerHour,
    RecipientLimitInternalPerHour: p.recipientLimitInternalPerHour,
    RecipientLimitPerDay: p.recipientLimitPerDay,
    ActionWhenThresholdReached: exchangeAction(p.actionWhenThresholdReached),
    NotifyOutboundSpamRecipients: p.notifyOutboundSpamRecipients,
    WhenCreated: p.createdAt,
    WhenChanged: p.updatedAt,
  };
}

const COLUMNS = ['Name', 'IsDefault', 'RecipientLimitExternalPerHour', 'RecipientLimitInternalPerHour', 'RecipientLimitPerDay', 'ActionWhenThresholdReached'];

async function listPolicies(api: GraphQLClient): Promise<OutboundSpamPolicy[]> {
  return (await api.request(LIST, {}, z.object({ outboundSpamPolicies: z.array(outboundSpamPolicy) }))).outboundSpamPolicies;
}

async function findPolicy(api: GraphQLClient, identity: string): Promise<OutboundSpamPolicy> {
  const found = findByName(await listPolicies(api), identity);
  if (!found) throw new CliError(ExitCode.notFound, `there is no outbound spam policy "${identity}" (get-hosted-outbound-spam-filter-policy lists them)`);
  return found;
}

interface SettingsOptions {
  recipientLimitExternalPerHour?: number;
  recipientLimitInternalPerHour?: number;
  recipientLimitPerDay?: number;
  actionWhenThresholdReached?: ThresholdAction;
  notifyOutboundSpamRecipients?: string[];
}

function settingsOptions(command: Command): Command {
  const limit = parseWholeNumber(0, 10_000);
  return command
    .option('--recipient-limit-external-per-hour <n>', 'external recipients per hour (0 = the service default)', limit)
    .option('--recipient-limit-internal-per-hour <n>', 'internal recipients per hour (0 = the service default)', limit)
    .option('--recipient-limit-per-day <n>', 'recipients per day (0 = the service default)', limit)
    .option('--action-when-threshold-reached <action>', `what crossing a limit does: ${Object.keys(thresholdActions).join(', ')}`, parseChoice(Object.keys(thresholdActions) as ThresholdAction[]))
    .option('--notify-outbound-spam-recipients <addresses>', 'who hears of restricted senders, comma-separated', parseList);
}

/** The GraphQL input's settings; options not given stay undefined, so JSON leaves them out and the server keeps them. */
function settingsInput(o: SettingsOptions) {
  return {
    recipientLimitExternalPerHour: o.recipientLimitExternalPerHour,
    recipientLimitInternalPerHour: o.recipientLimitInternalPerHour,
    recipientLimitPerDay: o.recipientLimitPerDay,
    actionWhenThresholdReached: o.actionWhenThresholdReached && thresholdActions[o.actionWhenThresholdReached],
    notifyOutboundSpamRecipients: o.notifyOutboundSpamRecipients,
  };
}

const hasSettings = (o: SettingsOptions) => Object.values(settingsInput(o)).some((v) => v !== undefined);

/** The policy as it would be after `input` (the server still validates it). */
function preview(current: OutboundSpamPolicy, input: ReturnType<typeof settingsInput>): OutboundSpamPolicy {
  return {
    ...current,
    recipientLimitExternalPerHour: input.recipientLimitExternalPerHour ?? current.recipientLimitExternalPerHour,
    recipientLimitInternalPerHour: input.recipientLimitInternalPerHour ?? current.recipientLimitInternalPerHour,
    recipientLimitPerDay: input.recipientLimitPerDay ?? current.recipientLimitPerDay,
    actionWhenThresholdReached: input.actionWhenThresholdReached ?? current.actionWhenThresholdReached,
    notifyOutboundSpamRecipients: input.notifyOutboundSpamRecipients ?? current.notifyOutboundSpamRecipients,
  };
}

function registerGet(program: Command): void {
  const spec = { name: 'get-hosted-outbound-spam-filter-policy', cmdlet: 'Get-HostedOutboundSpamFilterPolicy', description: 'list the outbound spam policies (evaluation order), or one of them' };
  const command = defineVerb(program, spec, (c) => c.argument('[identity]', 'policy name').option('--identity <name>', 'policy name (the default one is Default)'));
  onRun<{ identity?: string }>(command, async ({ api, out }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'policy');
    const policies = identity ? [await findPolicy(api, identity)] : await listPolicies(api);
    out.list(policies.map(toExchange), COLUMNS);
  });
}

function registerSet(program: Command): void {
  const spec = { name: 'set-hosted-outbound-spam-filter-policy', cmdlet: 'Set-HostedOutboundSpamFilterPolicy', description: "change an outbound spam policy's limits or action", effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) => settingsOptions(c.argument('[identity]', 'policy name').option('--identity <name>', 'policy name (the default one is Default)')));
  onRun<SettingsOptions & { identity?: string }>(command, async ({ api, out, whatIf }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'policy');
    if (!identity) throw new CliError(ExitCode.usage, 'say which policy: --identity <name> (the default one is Default)');
    if (!hasSettings(options)) throw new CliError(ExitCode.usage, 'nothing to change: give a limit, --action-when-threshold-reached or --notify-outbound-spam-recipients');
    const current = await findPolicy(api, identity);
    const settings = settingsInput(options);
    const input = { name: current.name, ...settings };
    if (whatIf) {
      await checkWhatIf(api, 'updateOutboundSpamPolicy', () => {
        validPolicySettings(options);
      });
      const changes = describeChanges(toExchange(current), toExchange(preview(current, settings)));
      return out.note(`What if: Changing outbound spam policy "${current.name}": ${changes.length > 0 ? `\n  ${changes.join('\n  ')}` : 'nothing would change.'}`);
    }
    const { updateOutboundSpamPolicy } = await api.request(mutation('SetHostedOutboundSpamFilterPolicy', 'updateOutboundSpamPolicy', 'UpdateOutboundSpamPolicyInput'), { input }, z.object({ updateOutboundSpamPolicy: z.unknown() }));
    out.record(toExchange(successOr(updateOutboundSpamPolicy, z.object({ policy: outboundSpamPolicy })).policy));
  });
}

function registerNew(program: Command): void {
  const spec = { name: 'new-hosted-outbound-spam-filter-policy', cmdlet: 'New-HostedOutboundSpamFilterPolicy', description: 'create an outbound spam policy (a rule then chooses who it applies to)', effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) => settingsOptions(c.requiredOption('--name <name>', 'the new policy’s name')));
  onRun<SettingsOptions & { name: string }>(command, async ({ api, out, whatIf }, options) => {
    const input = { name: options.name, ...settingsInput(options) };
    if (whatIf) {
      const policies = await listPolicies(api);
      await checkWhatIf(api, 'createOutboundSpamPolicy', () => {
        const same = findByName(policies, validNewPolicy({ name: options.name, settings: options }).name);
        return same && policyNameTakenError(same.name);
      });
      return out.note(`What if: Creating outbound spam policy "${options.name}". Nothing was changed.`);
    }
    const { createOutboundSpamPolicy } = await api.request(mutation('NewHostedOutboundSpamFilterPolicy', 'createOutboundSpamPolicy', 'CreateOutboundSpamPolicyInput'), { input }, z.object({ createOutboundSpamPolicy: z.unknown() }));
    out.record(toExchange(successOr(createOutboundSpamPolicy, z.object({ policy: outboundSpamPolicy })).policy));
  });
}

function registerRemove(program: Command): void {
  const spec = { name: 'remove-hosted-outbound-spam-filter-policy', cmdlet: 'Remove-HostedOutboundSpamFilterPolicy', description: 'delete an outbound spam policy and its rule', effect: 'destructive' } as const;
  const command = defineVerb(program, spec, (c) => c.argument('[identity]', 'policy name').option('--identity <name>', 'policy name'));
  onRun<{ identity?: string }>(command, async ({ api, out, whatIf, confirm }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'policy');
    if (!identity) throw new CliError(ExitCode.usage, 'say which policy: --identity <name>');
    const current = await findPolicy(api, identity);
    const description = `Deleting outbound spam policy "${current.name}" and the rule that applies it.`;
    if (whatIf) {
      await checkWhatIf(api, 'deleteOutboundSpamPolicy', () => policyRemovalError(current));
      return out.note(`What if: ${description} Nothing was changed.`);
    }
    await confirm(description);
    const { deleteOutboundSpamPolicy } = await api.request(mutation('RemoveHostedOutboundSpamFilterPolicy', 'deleteOutboundSpamPolicy', 'DeleteOutboundSpamPolicyInput'), { input: { name: current.name } }, z.object({ deleteOutboundSpamPolicy: z.unknown() }));
    out.record(toExchange(successOr(deleteOutboundSpamPolicy, z.object({ policy: outboundSpamPolicy })).policy));
    out.note(`Deleted outbound spam policy "${current.name}".`);
  });
}

export function registerOutboundSpamPolicyVerbs(program: Command): void {
  registerGet(program);
  registerSet(program);
  registerNew(program);
  registerRemove(program);
}
