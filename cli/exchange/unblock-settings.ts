import type { Command } from 'commander';
import { z } from 'zod';
import { validUnblockSettings } from '../../domain/tenants/unblock-settings.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import { booleanSwitch, NULL_VALUE, parseWholeNumberOrNull } from './option-values.ts';
import { describeChanges, type Row } from './output.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

const SETTINGS_FIELDS = 'unblockQuota unblockQuotaWindowDays requireSecondApproval';

const unblockSettings = z.object({ unblockQuota: z.number(), unblockQuotaWindowDays: z.number(), requireSecondApproval: z.boolean() });
type UnblockSettings = z.infer<typeof unblockSettings>;

const GET = `query GetUnblockSettings { viewer { tenant { ${SETTINGS_FIELDS} } } }`;
const SET = `mutation SetUnblockSettings($input: SetUnblockSettingsInput!) {
  setUnblockSettings(input: $input) { ${ERROR_SELECTION} ... on SetUnblockSettingsSuccess { tenant { ${SETTINGS_FIELDS} } } }
}`;

const DEPLOYMENT_DEFAULT = 'the deployment default';

function toExchange(s: UnblockSettings): Row {
  return { UnblockQuota: s.unblockQuota, UnblockQuotaWindowDays: s.unblockQuotaWindowDays, RequireSecondApproval: s.requireSecondApproval };
}

async function currentSettings(api: GraphQLClient): Promise<UnblockSettings> {
  return (await api.request(GET, {}, z.object({ viewer: z.object({ tenant: unblockSettings }) }))).viewer.tenant;
}

interface SetOptions {
  unblockQuota?: number | typeof NULL_VALUE;
  unblockQuotaWindowDays?: number | typeof NULL_VALUE;
  requireSecondApproval?: boolean;
}

/** The mutation's input: null is the API's "the deployment default"; an option not given is left out, so it stays. */
function toInput(options: SetOptions) {
  const nullable = (v: number | typeof NULL_VALUE | undefined) => (v === NULL_VALUE ? null : v);
  const input = { unblockQuota: nullable(options.unblockQuota), unblockQuotaWindowDays: nullable(options.unblockQuotaWindowDays), requireSecondApproval: options.requireSecondApproval };
  if (Object.values(input).every((v) => v === undefined)) {
    throw new CliError(ExitCode.usage, 'nothing to change: give --unblock-quota, --unblock-quota-window-days or --require-second-approval');
  }
  return input;
}

/** The settings as they would be shown after `input`; a null shows as the deployment default, whose value only the server knows. */
function preview(current: UnblockSettings, input: ReturnType<typeof toInput>): Row {
  const after = (given: number | null | undefined, now: number) => (given === undefined ? now : (given ?? DEPLOYMENT_DEFAULT));
  return {
    UnblockQuota: after(input.unblockQuota, current.unblockQuota),
    UnblockQuotaWindowDays: after(input.unblockQuotaWindowDays, current.unblockQuotaWindowDays),
    RequireSecondApproval: input.requireSecondApproval ?? current.requireSecondApproval,
  };
}

function registerGet(program: Command): void {
  const spec = { name: 'get-unblock-settings', cmdlet: 'Get-UnblockSettings', description: "show the organisation's unblock quota, its window and whether a second admin's approval releases past it" };
  onRun(defineVerb(program, spec), async ({ api, out }) => out.record(toExchange(await currentSettings(api))));
}

function registerSet(program: Command): void {
  const spec = { name: 'set-unblock-settings', cmdlet: 'Set-UnblockSettings', description: "change the organisation's unblock quota, its window or the second admin's approval", effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) =>
    c
      .option('--unblock-quota <n>', "releases per user per window, 0 (no quota) to 1000; null (or '$null'): the deployment default", parseWholeNumberOrNull)
      .option('--unblock-quota-window-days <days>', "the rolling window in days, 1 to 365; null (or '$null'): the deployment default", parseWholeNumberOrNull)
      .addOption(booleanSwitch('--require-second-approval', "past the quota, a second admin's release goes ahead (alone or true) instead of a refusal (false)")),
  );
  onRun<SetOptions>(command, async ({ api, out, whatIf }, options) => {
    const input = toInput(options);
    if (whatIf) {
      const current = await currentSettings(api);
      await checkWhatIf(api, 'setUnblockSettings', () => {
        validUnblockSettings(input);
      });
      const changes = describeChanges(toExchange(current), preview(current, input));
      return out.note(`What if: Changing the unblock settings: ${changes.length > 0 ? `\n  ${changes.join('\n  ')}` : 'nothing would change.'}`);
    }
    const { setUnblockSettings } = await api.request(SET, { input }, z.object({ setUnblockSettings: z.unknown() }));
    out.record(toExchange(successOr(setUnblockSettings, z.object({ tenant: unblockSettings })).tenant));
  });
}

/** Sendguard's own verbs for the unblock quota (the API's setUnblockSettings and Tenant fields). */
export function registerUnblockSettingsVerbs(program: Command): void {
  registerGet(program);
  registerSet(program);
}
