import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSendguard } from '../helpers/process.ts';
import { clientEnv, jsonOf } from '../helpers/cli.ts';
import { createTestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ env: { SENDGUARD_UNBLOCK_QUOTA: '3', SENDGUARD_UNBLOCK_QUOTA_WINDOW_DAYS: '30' } });
});
afterAll(async () => api.stop());

/** An admin and a read-only admin of a new tenant, so each test starts from the deployment defaults. */
async function newTenant() {
  const tenant = await createTestTenant(api.database);
  return {
    asAdmin: clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Security Administrator'], principalId: 'oid-adele', name: 'Adele Vance' })),
    asReader: clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Global Reader'], principalId: 'oid-grady', name: 'Grady Archie' })),
  };
}

const defaults = { UnblockQuota: 3, UnblockQuotaWindowDays: 30, RequireSecondApproval: false };

async function settings(env: Record<string, string | undefined>) {
  const result = await runSendguard(['Get-UnblockSettings'], env);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return jsonOf(result);
}

describe('get-unblock-settings / set-unblock-settings', () => {
  it('shows the deployment defaults to any admin, read-only ones too', async () => {
    const { asReader } = await newTenant();
    expect(await settings(asReader)).toEqual(defaults);
    const table = await runSendguard(['get-unblock-settings', '-o', 'table'], asReader);
    expect(table.stdout).toBe('UnblockQuota           : 3\nUnblockQuotaWindowDays : 30\nRequireSecondApproval  : False\n');
  });

  it('sets the quota, its window and the second approval, audited as Set-UnblockSettings; $null goes back to the deployment default', async () => {
    const { asAdmin } = await newTenant();
    const set = await runSendguard(['Set-UnblockSettings', '-UnblockQuota', '5', '-UnblockQuotaWindowDays', '7', '-RequireSecondApproval', '$true'], asAdmin);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(jsonOf(set)).toEqual({ UnblockQuota: 5, UnblockQuotaWindowDays: 7, RequireSecondApproval: true });
    expect(await settings(asAdmin)).toEqual({ UnblockQuota: 5, UnblockQuotaWindowDays: 7, RequireSecondApproval: true });

    const audit = jsonOf<Record<string, unknown>[]>(await runSendguard(['search-audit-log', '--operations', 'Set-UnblockSettings'], asAdmin));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ UserIds: 'oid-adele', AuditData: { Before: { unblockQuota: null }, After: { unblockQuota: 5, unblockQuotaWindowDays: 7, requireSecondApproval: true } } });

    const reset = await runSendguard(['set-unblock-settings', '--unblock-quota', '$null', '--unblock-quota-window-days=null', '--require-second-approval', 'false'], asAdmin);
    expect(jsonOf(reset)).toEqual(defaults);
    expect(await runSendguard(['Set-UnblockSettings', '-UnblockQuota:0'], asAdmin)).toMatchObject({ code: 0 });
    expect(await settings(asAdmin)).toMatchObject({ UnblockQuota: 0 });
  });

  it('refuses -RequireSecondApproval without its value (exit 2): what a POSIX shell leaves of -RequireSecondApproval $false', async () => {
    const { asAdmin } = await newTenant();
    const result = await runSendguard(['Set-UnblockSettings', '-RequireSecondApproval', '-UnblockQuota', '5'], asAdmin);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain("-RequireSecondApproval needs a value, $true or $false: quote it in a POSIX shell ('$false'), or write true or false");
    expect(await settings(asAdmin)).toEqual(defaults);
    // -Confirm changes nothing for a verb that does not ask: what the shell leaves of -Confirm:$false goes unremarked.
    expect(await runSendguard(['Set-UnblockSettings', '-RequireSecondApproval', 'false', '-UnblockQuota', '5', '-Confirm:'], asAdmin)).toMatchObject({ code: 0 });
    expect(await settings(asAdmin)).toEqual({ ...defaults, UnblockQuota: 5 });
  });

  it('-WhatIf lists the changes and changes nothing', async () => {
    const { asAdmin } = await newTenant();
    const whatIf = await runSendguard(['Set-UnblockSettings', '-UnblockQuota', '10', '-RequireSecondApproval', '$true', '-WhatIf'], asAdmin);
    expect(whatIf).toMatchObject({ code: 0, stdout: '' });
    expect(whatIf.stderr).toBe('What if: Changing the unblock settings: \n  UnblockQuota: 3 → 10\n  RequireSecondApproval: False → True\n');
    expect(await runSendguard(['set-unblock-settings', '--unblock-quota-window-days', '14'], asAdmin)).toMatchObject({ code: 0 });
    const toDefault = await runSendguard(['Set-UnblockSettings', '-UnblockQuotaWindowDays', '$null', '-WhatIf'], asAdmin);
    expect(toDefault.stderr).toContain('UnblockQuotaWindowDays: 14 → the deployment default');
    expect(await settings(asAdmin)).toEqual({ ...defaults, UnblockQuotaWindowDays: 14 });
  });

  it('exits 2 with the server’s message for a value out of range, -WhatIf too, and changes nothing', async () => {
    const { asAdmin } = await newTenant();
    for (const [args, message] of [
      [['-UnblockQuota', '1001'], 'unblockQuota must be a whole number from 0 (no quota) to 1000, or null for the deployment default'],
      [['-UnblockQuota', '-1'], 'unblockQuota must be a whole number from 0 (no quota) to 1000, or null for the deployment default'],
      [['-UnblockQuotaWindowDays', '0'], 'unblockQuotaWindowDays must be a whole number of days from 1 to 365, or null for the deployment default'],
      [['-UnblockQuotaWindowDays', '366', '-UnblockQuota', '2'], 'unblockQuotaWindowDays must be a whole number of days from 1 to 365, or null for the deployment default'],
    ] as const) {
      const real = await runSendguard(['Set-UnblockSettings', ...args], asAdmin);
      expect({ args, real }).toEqual({ args, real: { code: 2, stdout: '', stderr: `sendguard set-unblock-settings: ${message}\n` } });
      expect(await runSendguard(['Set-UnblockSettings', ...args, '-WhatIf'], asAdmin)).toEqual(real);
    }
    for (const args of [['-UnblockQuota', 'many'], ['-RequireSecondApproval', 'maybe'], []]) {
      expect(await runSendguard(['Set-UnblockSettings', ...args], asAdmin)).toMatchObject({ code: 2, stdout: '' });
    }
    expect(await settings(asAdmin)).toEqual(defaults);
  });

  it('exits 4 for a read-only admin, -WhatIf too, and changes nothing', async () => {
    const { asAdmin, asReader } = await newTenant();
    const refused = await runSendguard(['Set-UnblockSettings', '-UnblockQuota', '1'], asReader);
    expect(refused).toMatchObject({ code: 4, stdout: '', stderr: expect.stringContaining('Forbidden') });
    expect(await runSendguard(['Set-UnblockSettings', '-UnblockQuota', '1', '-WhatIf'], asReader)).toEqual(refused);
    expect(await settings(asAdmin)).toEqual(defaults);
  });
});
