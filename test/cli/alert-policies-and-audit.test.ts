import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSendguard } from '../helpers/process.ts';
import { clientEnv, jsonOf } from '../helpers/cli.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { policyActor } from '../helpers/services.ts';
import { dailyNotificationLimits } from '../../domain/alerts/alert-policy-service.ts';

let api: TestApi;
let tenant: TestTenant;
let asAdmin: Record<string, string | undefined>;
let asReader: Record<string, string | undefined>;

beforeAll(async () => {
  api = await startTestApi();
  tenant = await createTestTenant(api.database);
  asAdmin = clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Security Administrator'], principalId: 'oid-adele', name: 'Adele Vance' }));
  asReader = clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Security Reader'], principalId: 'oid-grady', name: 'Grady Archie' }));
});
afterAll(async () => api.stop());

type Policy = Record<string, unknown> & { Name: string };

async function adminOfNewTenant(): Promise<Record<string, string | undefined>> {
  const own = await createTestTenant(api.database);
  return clientEnv(api.graphqlUrl, await api.token({ tenantId: own.id, roles: ['Security Administrator'], principalId: 'oid-adele', name: 'Adele Vance' }));
}

async function policy(name: string, env = asAdmin): Promise<Policy> {
  const result = await runSendguard(['get-alert-policy', '--identity', name], env);
  expect(result).toMatchObject({ code: 0 });
  const [found] = jsonOf<Policy[]>(result);
  return found!;
}

describe('get-alert-policy / set-alert-policy', () => {
  it('lists the default policies with Get-ProtectionAlert property names', async () => {
    const result = await runSendguard(['Get-ProtectionAlert'], asReader);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const policies = jsonOf<Policy[]>(result);
    expect(policies.map((p) => `${p.Name} (${String(p.Severity)})`).sort()).toEqual([
      'Email sending limit exceeded (Medium)',
      'Sending limit nearly reached (Medium)',
      'User restricted from sending email (High)',
    ]);
    expect(policies.find((p) => p.Name === 'User restricted from sending email')).toMatchObject({
      Kind: 'USER_RESTRICTED',
      Disabled: false,
      Active: true,
      NotificationEnabled: true,
      NotifyUser: ['TenantAdmins'],
      IsDefault: true,
    });
  });

  it('finds one policy by positional identity, and exits 3 for an unknown one', async () => {
    const one = await runSendguard(['get-alert-policy', 'Sending limit nearly reached'], asAdmin);
    expect(jsonOf<Policy[]>(one).map((p) => p.Name)).toEqual(['Sending limit nearly reached']);
    const missing = await runSendguard(['get-alert-policy', 'No such policy'], asAdmin);
    expect(missing).toMatchObject({ code: 3, stdout: '' });
    expect(missing.stderr).toContain('there is no alert policy "No such policy"');
  });

  it('finds a policy by its name in any case, as the API does, or by its Identity', async () => {
    const env = await adminOfNewTenant();
    expect(jsonOf<Policy[]>(await runSendguard(['Get-ProtectionAlert', 'sending LIMIT nearly reached'], env)).map((p) => p.Name)).toEqual(['Sending limit nearly reached']);
    const byName = await runSendguard(['Set-ProtectionAlert', '-Identity', 'sending limit nearly reached', '-Disabled', '$true'], env);
    expect(byName).toMatchObject({ code: 0 });
    expect(jsonOf(byName)).toMatchObject({ Name: 'Sending limit nearly reached', Disabled: true });
    const { Identity } = await policy('Sending limit nearly reached', env);
    const byId = await runSendguard(['Set-ProtectionAlert', '-Identity', String(Identity), '-Disabled', '$false'], env);
    expect(byId).toMatchObject({ code: 0 });
    expect(jsonOf(byId)).toMatchObject({ Name: 'Sending limit nearly reached', Disabled: false });
  });

  it('-WhatIf lists the changes and changes nothing', async () => {
    const result = await runSendguard(['Set-ProtectionAlert', '-Identity', 'Email sending limit exceeded', '-Disabled', '$true', '-DailyNotificationLimit', '5', '-WhatIf'], asAdmin);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toContain('What if: Changing alert policy "Email sending limit exceeded":');
    expect(result.stderr).toContain('Disabled: False → True');
    expect(result.stderr).toContain('DailyNotificationLimit: NoLimit → 5');
    expect(await policy('Email sending limit exceeded')).toMatchObject({ Disabled: false, DailyNotificationLimit: 'NoLimit' });
  });

  it('changes status, recipients and the daily limit, and the change is audited', async () => {
    const args = ['Set-ProtectionAlert', '-Identity', 'User restricted from sending email', '-Disabled', '$true', '-NotifyUser', 'soc@contoso.com,TenantAdmins', '-DailyNotificationLimit', '25'];
    const result = await runSendguard(args, asAdmin);
    expect(result).toMatchObject({ code: 0 });
    const expected = { Name: 'User restricted from sending email', Disabled: true, Active: false, NotifyUser: ['soc@contoso.com', 'TenantAdmins'], DailyNotificationLimit: 25 };
    expect(jsonOf(result)).toMatchObject(expected);
    expect(await policy('User restricted from sending email')).toMatchObject(expected);

    const audit = await runSendguard(['search-audit-log', '--operations', 'UpdateAlertPolicy', '--object-ids', 'User restricted'], asAdmin);
    expect(audit).toMatchObject({ code: 0 });
    const [record] = jsonOf<Record<string, unknown>[]>(audit);
    expect(record).toMatchObject({ UserIds: 'oid-adele', UserDisplayName: 'Adele Vance', Operations: 'UpdateAlertPolicy', ObjectId: 'User restricted from sending email', ResultStatus: 'Success' });
    expect(record?.AuditData).toMatchObject({ Before: { enabled: true }, After: { enabled: false } });
  });

  it('sets the daily limit back to NoLimit, and -WhatIf shows it', async () => {
    const env = await adminOfNewTenant();
    const name = 'Sending limit nearly reached';
    expect(await runSendguard(['set-alert-policy', '--identity', name, '--daily-notification-limit', '5'], env)).toMatchObject({ code: 0 });
    const whatIf = await runSendguard(['set-alert-policy', '--identity', name, '--daily-notification-limit', 'NoLimit', '--what-if'], env);
    expect(whatIf).toMatchObject({ code: 0, stdout: '' });
    expect(whatIf.stderr).toContain('DailyNotificationLimit: 5 → NoLimit');
    expect((await policy(name, env)).DailyNotificationLimit).toBe(5);

    const result = await runSendguard(['Set-ProtectionAlert', '-Identity', name, '-DailyNotificationLimit', 'nolimit'], env);
    expect(result).toMatchObject({ code: 0 });
    expect(jsonOf(result)).toMatchObject({ Name: name, DailyNotificationLimit: 'NoLimit' });
    expect((await policy(name, env)).DailyNotificationLimit).toBe('NoLimit');
  });

  it('allows only the daily limits Set-ProtectionAlert offers, and says so before anything else (exit 2, -WhatIf too)', async () => {
    const offered = dailyNotificationLimits.map((n) => n ?? 'NoLimit').join(', ');
    const help = await runSendguard(['set-alert-policy', '--help'], {});
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(`notifications per day: ${offered}`);
    for (const args of [
      ['set-alert-policy', 'Sending limit nearly reached', '--daily-notification-limit', '7'],
      ['set-alert-policy', '--identity', 'Sending limit nearly reached', '--daily-notification-limit', '7', '--what-if'],
      ['Set-ProtectionAlert', '-Identity', 'Sending limit nearly reached', '-DailyNotificationLimit', '201', '-WhatIf'],
      ['set-alert-policy', '--identity', 'No such policy', '--daily-notification-limit', '0', '--what-if'],
    ]) {
      const result = await runSendguard(args, asAdmin);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toContain(`expected one of ${offered}`);
    }
    expect((await policy('Sending limit nearly reached')).DailyNotificationLimit).toBe('NoLimit');
  });

  it('takes --enabled, --disabled and --notification-enabled alone as switches, or with true/false', async () => {
    const env = await adminOfNewTenant();
    const name = 'Email sending limit exceeded';
    const whatIf = await runSendguard(['set-alert-policy', '--identity', name, '--disabled', '--what-if'], env);
    expect(whatIf).toMatchObject({ code: 0, stdout: '' });
    expect(whatIf.stderr).toContain('Disabled: False → True');
    const steps: [string[], Partial<Policy>][] = [
      [['set-alert-policy', name, '--disabled'], { Disabled: true }],
      [['set-alert-policy', '--identity', name, '--enabled', '--notification-enabled', 'false'], { Disabled: false, NotificationEnabled: false }],
      [['Set-ProtectionAlert', '-Identity', name, '-Disabled', '$true', '-NotificationEnabled', 'true'], { Disabled: true, NotificationEnabled: true }],
      [['Set-ProtectionAlert', name, '-Enabled:$true'], { Disabled: false }],
      [['Set-ProtectionAlert', name, '-Enabled', '$false'], { Disabled: true }],
      [['set-alert-policy', name, '--disabled=false'], { Disabled: false }],
    ];
    for (const [args, expected] of steps) {
      const result = await runSendguard(args, env);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(jsonOf(result)).toMatchObject(expected);
    }
    // A value that is not a boolean is refused, not taken for the policy's name.
    expect(await runSendguard(['set-alert-policy', '--disabled', name], env)).toMatchObject({ code: 2, stdout: '' });
    expect((await policy(name, env)).Disabled).toBe(false);
  });

  it('refuses a PowerShell-spelled boolean without its value (exit 2), as PowerShell does: a POSIX shell drops an unquoted $false, and -Enabled alone would turn the policy on', async () => {
    const env = await adminOfNewTenant();
    const name = 'Email sending limit exceeded';
    const quote = "quote it in a POSIX shell ('$false'), or write true or false";
    // What bash passes for `-Enabled $false`, `-Disabled $false -NotificationEnabled $false` and `-Enabled:$false`.
    for (const [args, parameter] of [
      [['Set-ProtectionAlert', name, '-Enabled'], '-Enabled'],
      [['Set-ProtectionAlert', '-Identity', name, '-Disabled', '-NotificationEnabled'], '-Disabled'],
    ] as const) {
      const result = await runSendguard([...args], env);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toContain(`${parameter} needs a value, $true or $false: ${quote}`);
    }
    expect(await runSendguard(['Set-ProtectionAlert', name, '-Enabled:'], env)).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining(quote) });
    expect(await policy(name, env)).toMatchObject({ Disabled: false, NotificationEnabled: true });
  });

  it('exits 2 for a value the server rejects or nothing to change, 3 for an unknown policy, 4 for a read-only admin', async () => {
    const badRecipient = await runSendguard(['set-alert-policy', 'Sending limit nearly reached', '--notify-user', 'not-an-address'], asAdmin);
    expect(badRecipient).toMatchObject({ code: 2, stdout: '' });
    expect(badRecipient.stderr).toContain('not-an-address');
    expect(await runSendguard(['set-alert-policy', 'Sending limit nearly reached'], asAdmin)).toMatchObject({ code: 2 });
    expect(await runSendguard(['set-alert-policy', 'No such policy', '--enabled', 'false'], asAdmin)).toMatchObject({ code: 3 });
    const reader = await runSendguard(['set-alert-policy', 'Sending limit nearly reached', '--enabled', 'false'], asReader);
    expect(reader).toMatchObject({ code: 4 });
    expect(await runSendguard(['set-alert-policy', 'Sending limit nearly reached', '--enabled', 'false', '--what-if'], asReader)).toEqual(reader);
    expect((await policy('Sending limit nearly reached')).Disabled).toBe(false);
  });
});

describe('search-audit-log', () => {
  it('finds a release made with the CLI by operation and address, newest first, within the dates and result size', async () => {
    const address = tenant.address('audited');
    await api.running.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const release = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--reason', 'password reset', '--yes'], asAdmin);
    expect(release).toMatchObject({ code: 0 });

    const both = await runSendguard(['Search-UnifiedAuditLog', '-ObjectIds', address, '-StartDate', '2020-01-01'], asReader);
    expect(both).toMatchObject({ code: 0 });
    expect(jsonOf<{ Operations: string }[]>(both).map((r) => r.Operations)).toEqual(['Delisted', 'Listed']);

    const delisted = jsonOf<Record<string, unknown>[]>(await runSendguard(['search-audit-log', '--operations', 'Delisted', '--object-ids', address], asReader));
    expect(delisted).toHaveLength(1);
    expect(delisted[0]).toMatchObject({ UserIds: 'oid-adele', ObjectId: address, AuditData: { Details: { reason: 'password reset' } } });

    expect(jsonOf(await runSendguard(['search-audit-log', '--object-ids', address, '--result-size', '1'], asReader))).toHaveLength(1);
    expect(await runSendguard(['search-audit-log', '--object-ids', address, '--start-date', '2999-01-01'], asReader)).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('takes -Operations as a list, as Search-UnifiedAuditLog does: the records of each, newest first, within the result size', async () => {
    const address = tenant.address('listed-ops');
    await api.running.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    expect(await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asAdmin)).toMatchObject({ code: 0 });
    const operations = async (...args: string[]) => {
      const result = await runSendguard(['Search-UnifiedAuditLog', '-ObjectIds', address, ...args], asReader);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      return jsonOf<{ Operations: string }[]>(result).map((r) => r.Operations);
    };
    expect(await operations('-Operations', 'Listed,Delisted')).toEqual(['Delisted', 'Listed']);
    expect(await operations('-Operations', 'Delisted, New-RelayCredential')).toEqual(['Delisted']);
    expect(await operations('-Operations', 'Listed,Delisted', '-ResultSize', '1')).toEqual(['Delisted']);
    // In any case, as Search-UnifiedAuditLog matches them; one operation spelled twice lists its records once.
    expect(await operations('-Operations', 'listed,DELISTED')).toEqual(['Delisted', 'Listed']);
    expect(await operations('-Operations', 'Delisted,delisted')).toEqual(['Delisted']);
  });

  it('prints a table with -o table, and exits 2 for a bad date', async () => {
    const address = tenant.address('tabled');
    await api.running.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
    const table = await runSendguard(['search-audit-log', '--object-ids', address, '-o', 'table'], asAdmin);
    expect(table).toMatchObject({ code: 0 });
    const [header, , row] = table.stdout.split('\n');
    expect(header?.split(/\s+/)).toEqual(['CreationDate', 'UserIds', 'Operations', 'ObjectId', 'ResultStatus']);
    expect(row?.split(/\s+/).slice(1)).toEqual(['system:policy', 'Listed', address, 'Success']);
    expect(await runSendguard(['search-audit-log', '--start-date', 'yesterday'], asAdmin)).toMatchObject({ code: 2 });
  });

  it('exits 2 for a date that does not exist or a year outside 0001–9999, instead of rolling it over', async () => {
    for (const date of ['2026-02-30', '2027-02-29T10:00:00Z', '0000-01-01', '2026-04-31T00:00']) {
      const result = await runSendguard(['search-audit-log', '--start-date', date], asAdmin);
      expect(result, date).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(/expected a date that exists, in the years 0001 to 9999/);
    }
    expect(await runSendguard(['search-audit-log', '--start-date', '2028-02-29', '--end-date', '2028-03-01'], asAdmin)).toMatchObject({ code: 0 });
  });
});
