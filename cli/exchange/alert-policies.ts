import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import { findByName, givenIdentity } from './identity.ts';
import { booleanSwitch, parseList } from './option-values.ts';
import { describeChanges, type Row } from './output.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

const ALERT_POLICY_FIELDS = 'id name kind severity isDefault enabled active inactiveReason inactiveExplanation emailEnabled recipients dailyNotificationLimit thresholdPercent updatedAt';

const alertPolicy = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  severity: z.string(),
  isDefault: z.boolean(),
  enabled: z.boolean(),
  active: z.boolean(),
  inactiveReason: z.string().nullable(),
  inactiveExplanation: z.string().nullable(),
  emailEnabled: z.boolean(),
  recipients: z.array(z.string()),
  dailyNotificationLimit: z.number().nullable(),
  thresholdPercent: z.number().nullable(),
  updatedAt: z.string(),
});
type AlertPolicy = z.infer<typeof alertPolicy>;

const LIST = `query GetAlertPolicy { alertPolicies { ${ALERT_POLICY_FIELDS} } }`;
const UPDATE = `mutation SetAlertPolicy($input: UpdateAlertPolicyInput!) {
  updateAlertPolicy(input: $input) { ${ERROR_SELECTION} ... on UpdateAlertPolicySuccess { alertPolicy { ${ALERT_POLICY_FIELDS} } } }
}`;

const titleCase = (v: string) => v.charAt(0) + v.slice(1).toLowerCase();

/** Get-ProtectionAlert's property names where it has one (Disabled, NotifyUser, NotificationEnabled). */
function toExchange(p: AlertPolicy): Row {
  return {
    Name: p.name,
    Identity: p.id,
    Kind: p.kind,
    Severity: titleCase(p.severity),
    Disabled: !p.enabled,
    Active: p.active,
    InactiveReason: p.inactiveExplanation,
    NotificationEnabled: p.emailEnabled,
    NotifyUser: p.recipients,
    DailyNotificationLimit: p.dailyNotificationLimit ?? 'NoLimit',
    ThresholdPercent: p.thresholdPercent,
    IsDefault: p.isDefault,
    LastModifiedTime: p.updatedAt,
  };
}

const COLUMNS = ['Name', 'Severity', 'Disabled', 'Active', 'NotificationEnabled', 'NotifyUser', 'DailyNotificationLimit'];

async function listPolicies(api: GraphQLClient): Promise<AlertPolicy[]> {
  return (await api.request(LIST, {}, z.object({ alertPolicies: z.array(alertPolicy) }))).alertPolicies;
}

/** By id, or by name in any case as the server matches it. */
async function findPolicy(api: GraphQLClient, identity: string): Promise<AlertPolicy> {
  const policies = await listPolicies(api);
  const found = policies.find((p) => p.id === identity) ?? findByName(policies, identity);
  if (!found) throw new CliError(ExitCode.notFound, `there is no alert policy "${identity}" (get-alert-policy lists them)`);
  return found;
}

function registerGet(program: Command): void {
  const command = defineVerb(program, { name: 'get-alert-policy', cmdlet: 'Get-ProtectionAlert', otherCmdlets: ['Get-AlertPolicy'], description: 'list the alert policies, or one of them' }, (c) =>
    c.argument('[identity]', 'policy name or id').option('--identity <name>', 'policy name or id'),
  );
  onRun<{ identity?: string }>(command, async ({ api, out }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'policy');
    const policies = identity ? [await findPolicy(api, identity)] : await listPolicies(api);
    out.list(policies.map(toExchange), COLUMNS);
  });
}

/** Set-ProtectionAlert's choices besides NoLimit; the server allows these only, so -WhatIf must not show another. */
export const dailyNotificationLimits = [1, 5, 10, 25, 50, 100, 150, 200] as const;
const NO_LIMIT = 'NoLimit';
const dailyLimitChoices = `${NO_LIMIT}, ${dailyNotificationLimits.join(', ')}`;

// NoLimit is kept as a word until the input is built: commander stores a parser's null as ''.
function parseDailyLimit(value: string): number | typeof NO_LIMIT {
  const v = value.trim();
  if (/^(nolimit|unlimited|none)$/i.test(v)) return NO_LIMIT;
  const limit = dailyNotificationLimits.find((n) => String(n) === v);
  if (limit === undefined) throw new InvalidArgumentError(`expected one of ${dailyLimitChoices}`);
  return limit;
}

interface SetOptions {
  identity?: string;
  enabled?: boolean;
  disabled?: boolean;
  notificationEnabled?: boolean;
  notifyUser?: string[];
  dailyNotificationLimit?: number | typeof NO_LIMIT;
}

interface UpdateInput {
  name: string;
  enabled?: boolean | undefined;
  emailEnabled?: boolean | undefined;
  recipients?: string[] | undefined;
  dailyNotificationLimit?: number | null | undefined;
}

function toInput(options: SetOptions, name: string): UpdateInput {
  if (options.enabled !== undefined && options.disabled !== undefined) throw new CliError(ExitCode.usage, 'give --enabled or --disabled, not both');
  const enabled = options.enabled ?? (options.disabled === undefined ? undefined : !options.disabled);
  const limit = options.dailyNotificationLimit;
  // null is the API's "no limit"; undefined leaves the limit as it is.
  const dailyNotificationLimit = limit === NO_LIMIT ? null : limit;
  const input = { name, enabled, emailEnabled: options.notificationEnabled, recipients: options.notifyUser, dailyNotificationLimit };
  if ([input.enabled, input.emailEnabled, input.recipients, input.dailyNotificationLimit].every((v) => v === undefined)) {
    throw new CliError(ExitCode.usage, 'nothing to change: give --enabled/--disabled, --notification-enabled, --notify-user or --daily-notification-limit');
  }
  return input;
}

/** The policy as it would be after `input` (the server still validates it). */
function preview(current: AlertPolicy, input: UpdateInput): AlertPolicy {
  return {
    ...current,
    enabled: input.enabled ?? current.enabled,
    emailEnabled: input.emailEnabled ?? current.emailEnabled,
    recipients: input.recipients ?? current.recipients,
    dailyNotificationLimit: input.dailyNotificationLimit === undefined ? current.dailyNotificationLimit : input.dailyNotificationLimit,
  };
}

function registerSet(program: Command): void {
  const spec = { name: 'set-alert-policy', cmdlet: 'Set-ProtectionAlert', otherCmdlets: ['Set-AlertPolicy'], description: 'turn an alert policy on or off, or change its notifications', effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) =>
    c
      .argument('[identity]', 'policy name or id')
      .option('--identity <name>', 'policy name or id')
      .addOption(booleanSwitch('--enabled', 'turn the policy on (alone or true) or off (false)'))
      .addOption(booleanSwitch('--disabled', 'Exchange spelling: alone or true turns the policy off'))
      .addOption(booleanSwitch('--notification-enabled', 'send e-mail notifications (alone or true) or not (false)'))
      .option('--notify-user <recipients>', 'TenantAdmins and/or e-mail addresses, comma-separated', parseList)
      .option('--daily-notification-limit <n>', `notifications per day: ${dailyLimitChoices}`, parseDailyLimit),
  );
  onRun<SetOptions>(command, async ({ api, out, whatIf }, options, [positional]) => {
    const identity = givenIdentity(options, positional, 'policy');
    if (!identity) throw new CliError(ExitCode.usage, 'say which policy: --identity <name>');
    const input = toInput(options, identity);
    const current = await findPolicy(api, identity);
    if (whatIf) {
      await checkWhatIf(api, 'updateAlertPolicy');
      const changes = describeChanges(toExchange(current), toExchange(preview(current, input)));
      return out.note(`What if: Changing alert policy "${current.name}": ${changes.length > 0 ? `\n  ${changes.join('\n  ')}` : 'nothing would change.'}`);
    }
    // The server knows a policy by name, not by the global id shown as its Identity.
    const { updateAlertPolicy } = await api.request(UPDATE, { input: { ...input, name: current.name } }, z.object({ updateAlertPolicy: z.unknown() }));
    out.record(toExchange(successOr(updateAlertPolicy, z.object({ alertPolicy })).alertPolicy));
  });
}

export function registerAlertPolicyVerbs(program: Command): void {
  registerGet(program);
  registerSet(program);
}
