import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnector } from '../../db/repos/connectors.ts';
import { runSendguard } from '../helpers/process.ts';
import { clientEnv, jsonOf } from '../helpers/cli.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { policyActor } from '../helpers/services.ts';

let api: TestApi;
let tenant: TestTenant;
let asAdmin: Record<string, string | undefined>;

beforeAll(async () => {
  api = await startTestApi();
  tenant = await createTestTenant(api.database);
  asAdmin = clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Organization Management'], principalId: 'oid-adele', name: 'Adele Vance' }));
});
afterAll(async () => api.stop());

type Json = Record<string, unknown>;

async function blockedConnector(name: string) {
  const connector = await insertConnector(api.database.db, { tenantId: tenant.id, name, clientIpRanges: ['192.0.2.0/24'] });
  await api.running.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'connector', entityKey: connector.id, reasonCode: 'SuspectedCompromise', temporary: false, actor: policyActor });
  return connector;
}

// Each refusal runs the CLI twice, a second or more apiece on a busy 2-core machine.
const SLOW = 180_000;

/** -WhatIf refuses `args` as the real call does, with the same exit code (2 unless said) and message on stderr. */
async function expectWhatIfRefusesAsReal(args: string[], message: string, code = 2): Promise<void> {
  const verb = (args[0] ?? '').replace(/(?<=[a-z])[A-Z]/g, (l) => `-${l}`).toLowerCase();
  const real = await runSendguard([...args, '-Confirm:$false'], asAdmin);
  expect(real).toEqual({ code, stdout: '', stderr: `sendguard ${verb}: ${message}\n` });
  expect(await runSendguard([...args, '-WhatIf'], asAdmin)).toEqual(real);
}

describe('get-blocked-connector / remove-blocked-connector', () => {
  it('lists blocked connectors, finds one by -ConnectorId, and exits 3 for one that is not blocked', async () => {
    const connector = await blockedConnector('Fabrikam on-premises');
    const all = await runSendguard(['get-blocked-connector'], asAdmin);
    expect(all).toMatchObject({ code: 0 });
    expect(jsonOf<Json[]>(all)).toEqual([
      expect.objectContaining({ ConnectorId: connector.id, ConnectorName: 'Fabrikam on-premises', TemporaryBlock: false, Reason: expect.any(String), CreatedDatetime: expect.stringMatching(/Z$/) }),
    ]);
    const one = await runSendguard(['Get-BlockedConnector', '-ConnectorId', connector.id], asAdmin);
    expect(jsonOf<Json[]>(one).map((c) => c.ConnectorId)).toEqual([connector.id]);
    expect(await runSendguard(['get-blocked-connector', '--connector-id', '159eb7c4-75d7-43e2-95fe-ced44b3e0a56'], asAdmin)).toMatchObject({ code: 3, stdout: '' });
  });

  it('refuses without --yes off a terminal, changes nothing with -WhatIf, releases with -Confirm:$false', async () => {
    const connector = await blockedConnector('Contoso relay');
    const isBlocked = async () => (await api.running.services.restrictionQueries.latest(tenant.id, 'connector', connector.id))?.status;

    expect(await runSendguard(['remove-blocked-connector', '--connector-id', connector.id], asAdmin)).toMatchObject({ code: 2 });
    const whatIf = await runSendguard(['Remove-BlockedConnector', '-ConnectorId', connector.id, '-WhatIf'], asAdmin);
    expect(whatIf).toMatchObject({ code: 0, stdout: '' });
    expect(whatIf.stderr).toContain(`What if: Releasing the blocked connector ${connector.id} "Contoso relay"`);
    expect(await isBlocked()).toBe('Restricted');

    const released = await runSendguard(['Remove-BlockedConnector', '-ConnectorId', connector.id, '-Reason', 'server patched', '-Confirm:$false'], asAdmin);
    expect(released).toMatchObject({ code: 0 });
    expect(jsonOf(released)).toMatchObject({ ConnectorId: connector.id, Status: 'RELEASED', ReleasedBy: 'Adele Vance', ReleaseReason: 'server patched' });
    expect(await isBlocked()).toBe('Released');
    expect(await runSendguard(['remove-blocked-connector', '--connector-id', connector.id, '--yes'], asAdmin)).toMatchObject({ code: 3 });
  });

  it('--what-if refuses a reason over 1000 characters as the release would (exit 2, same message), and changes nothing', async () => {
    const connector = await blockedConnector('Litware scanner');
    const args = ['Remove-BlockedConnector', '-ConnectorId', connector.id, '-Reason', 'x'.repeat(1001)];
    const real = await runSendguard([...args, '-Confirm:$false'], asAdmin);
    expect(real).toMatchObject({ code: 2, stderr: 'sendguard remove-blocked-connector: reason must be at most 1000 characters\n' });
    expect(await runSendguard([...args, '-WhatIf'], asAdmin)).toEqual(real);
    expect((await api.running.services.restrictionQueries.latest(tenant.id, 'connector', connector.id))?.status).toBe('Restricted');
  });
});

describe('hosted outbound spam filter policies', () => {
  it('shows the default policy with Exchange property names and values', async () => {
    const result = await runSendguard(['Get-HostedOutboundSpamFilterPolicy'], asAdmin);
    expect(result).toMatchObject({ code: 0 });
    expect(jsonOf(result)).toEqual([
      expect.objectContaining({
        Name: 'Default',
        IsDefault: true,
        RecipientLimitExternalPerHour: 0,
        RecipientLimitInternalPerHour: 0,
        RecipientLimitPerDay: 0,
        ActionWhenThresholdReached: 'BlockUserForToday',
        NotifyOutboundSpamRecipients: [],
      }),
    ]);
  });

  it('lines up the table columns on a terminal when a name has wide (CJK) or combining characters', async () => {
    const own = await createTestTenant(api.database);
    const env = clientEnv(api.graphqlUrl, await api.token({ tenantId: own.id, roles: ['Organization Management'] }));
    for (const name of ['営業部', 'Cafe\u0301']) expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', name], env)).toMatchObject({ code: 0 });
    const table = await runSendguard(['get-hosted-outbound-spam-filter-policy', '-o', 'table'], env);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows.map((r) => r.split(/ +/)[0]).sort()).toEqual(['----', 'Cafe\u0301', 'Default', 'Name', '営業部']);
    // A terminal gives 営 two columns and the combining accent none: the second column starts at one place on every row.
    const columnOf = (row: string, text: string) => [...row.slice(0, row.indexOf(text))].reduce((w, ch) => w + (/\p{M}/u.test(ch) ? 0 : /\p{Script=Han}/u.test(ch) ? 2 : 1), 0);
    expect(new Set([columnOf(rows[0] ?? '', 'IsDefault'), ...rows.slice(2).map((r) => columnOf(r, r.includes('True') ? 'True' : 'False'))]).size).toBe(1);
  });

  it('-WhatIf lists the changes; without it the limits and the action change', async () => {
    const args = ['Set-HostedOutboundSpamFilterPolicy', '-Identity', 'Default', '-RecipientLimitExternalPerHour', '400', '-ActionWhenThresholdReached', 'BlockUser'];
    const whatIf = await runSendguard([...args, '-WhatIf'], asAdmin);
    expect(whatIf).toMatchObject({ code: 0, stdout: '' });
    expect(whatIf.stderr).toContain('RecipientLimitExternalPerHour: 0 → 400');
    expect(whatIf.stderr).toContain('ActionWhenThresholdReached: BlockUserForToday → BlockUser');
    expect(jsonOf<Json[]>(await runSendguard(['get-hosted-outbound-spam-filter-policy', 'Default'], asAdmin))[0]).toMatchObject({ RecipientLimitExternalPerHour: 0 });

    const set = await runSendguard(args, asAdmin);
    expect(set).toMatchObject({ code: 0 });
    expect(jsonOf(set)).toMatchObject({ Name: 'Default', RecipientLimitExternalPerHour: 400, ActionWhenThresholdReached: 'BlockUser' });
    expect(jsonOf<Json[]>(await runSendguard(['get-hosted-outbound-spam-filter-policy', '--identity', 'Default'], asAdmin))[0]).toMatchObject({ RecipientLimitExternalPerHour: 400 });
  });

  it('takes -ActionWhenThresholdReached and -State in any case, as PowerShell takes enum values', async () => {
    const whatIf = await runSendguard(['New-HostedOutboundSpamFilterPolicy', '-Name', 'Any case', '-ActionWhenThresholdReached', 'blockuser', '-WhatIf'], asAdmin);
    expect(whatIf).toEqual({ code: 0, stdout: '', stderr: 'What if: Creating outbound spam policy "Any case". Nothing was changed.\n' });
    expect(await runSendguard(['Get-HostedOutboundSpamFilterRule', '-State', 'enabled'], asAdmin)).toMatchObject({ code: 0, stderr: '' });
  });

  it('exits 2 for out-of-range values, an unknown action or deleting the default policy, 3 for an unknown policy', async () => {
    expect(await runSendguard(['set-hosted-outbound-spam-filter-policy', 'Default', '--recipient-limit-per-day', '10001'], asAdmin)).toMatchObject({ code: 2 });
    expect(await runSendguard(['set-hosted-outbound-spam-filter-policy', 'Default', '--action-when-threshold-reached', 'Quarantine'], asAdmin)).toMatchObject({ code: 2 });
    expect(await runSendguard(['set-hosted-outbound-spam-filter-policy', 'Nope', '--recipient-limit-per-day', '5'], asAdmin)).toMatchObject({ code: 3 });
    const removeDefault = await runSendguard(['remove-hosted-outbound-spam-filter-policy', 'Default', '--yes'], asAdmin);
    expect(removeDefault).toMatchObject({ code: 2 });
    expect(removeDefault.stderr).toContain('the Default policy cannot be deleted');
  });

  it('-WhatIf refuses what the real call would (exit 2, the same message): a bad name or address, a name taken, deleting Default; nothing changes', { timeout: SLOW }, async () => {
    const before = await runSendguard(['get-hosted-outbound-spam-filter-policy'], asAdmin);
    await expectWhatIfRefusesAsReal(['New-HostedOutboundSpamFilterPolicy', '-Name', 'Sales/EMEA'], 'name must not contain / (none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , ")');
    await expectWhatIfRefusesAsReal(['New-HostedOutboundSpamFilterPolicy', '-Name', 'x'.repeat(65)], 'name must be 1 to 64 characters');
    await expectWhatIfRefusesAsReal(['New-HostedOutboundSpamFilterPolicy', '-Name', 'Legal\u200b'], 'name must not contain control or invisible formatting characters');
    await expectWhatIfRefusesAsReal(['New-HostedOutboundSpamFilterPolicy', '-Name', 'Legal', '-NotifyOutboundSpamRecipients', 'soc'], 'notifyOutboundSpamRecipients: soc is not an e-mail address');
    await expectWhatIfRefusesAsReal(['New-HostedOutboundSpamFilterPolicy', '-Name', ' default '], 'a policy named Default already exists');
    await expectWhatIfRefusesAsReal(['Set-HostedOutboundSpamFilterPolicy', '-Identity', 'Default', '-NotifyOutboundSpamRecipients', `soc@${tenant.domain},soc@`], 'notifyOutboundSpamRecipients: soc@ is not an e-mail address');
    const tooMany = Array.from({ length: 101 }, (_, i) => tenant.address(`soc${i}`)).join(',');
    await expectWhatIfRefusesAsReal(['Set-HostedOutboundSpamFilterPolicy', '-Identity', 'Default', '-NotifyOutboundSpamRecipients', tooMany], 'notifyOutboundSpamRecipients takes at most 100 values');
    await expectWhatIfRefusesAsReal(['Remove-HostedOutboundSpamFilterPolicy', '-Identity', 'default'], 'the Default policy cannot be deleted');
    expect(await runSendguard(['get-hosted-outbound-spam-filter-policy'], asAdmin)).toEqual(before);
  });

  it('finds a policy by its name in any case, as the API does', async () => {
    expect(jsonOf<Json[]>(await runSendguard(['Get-HostedOutboundSpamFilterPolicy', '-Identity', 'default'], asAdmin))).toEqual([expect.objectContaining({ Name: 'Default' })]);
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Finance'], asAdmin)).toMatchObject({ code: 0 });
    const set = await runSendguard(['Set-HostedOutboundSpamFilterPolicy', '-Identity', 'FINANCE', '-RecipientLimitPerDay', '300'], asAdmin);
    expect(set).toMatchObject({ code: 0 });
    expect(jsonOf(set)).toMatchObject({ Name: 'Finance', RecipientLimitPerDay: 300 });
    const removed = await runSendguard(['Remove-HostedOutboundSpamFilterPolicy', '-Identity', 'finance', '-Confirm:$false'], asAdmin);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.stderr).toContain('Deleted outbound spam policy "Finance".');
    expect(await runSendguard(['get-hosted-outbound-spam-filter-policy', 'Finance'], asAdmin)).toMatchObject({ code: 3 });
  });
});

describe('hosted outbound spam filter rules', () => {
  it('creates a policy and its rule, disables it, previews a change, and removes it only when confirmed', async () => {
    const newPolicy = await runSendguard(['New-HostedOutboundSpamFilterPolicy', '-Name', 'Sales', '-RecipientLimitPerDay', '200'], asAdmin);
    expect(newPolicy).toMatchObject({ code: 0 });
    expect(jsonOf(newPolicy)).toMatchObject({ Name: 'Sales', IsDefault: false, RecipientLimitPerDay: 200 });

    const domain = `sales.${tenant.domain}`;
    const args = ['New-HostedOutboundSpamFilterRule', '-Name', 'Sales senders', '-HostedOutboundSpamFilterPolicy', 'Sales', '-SenderDomainIs', domain, '-ExceptIfFrom', `boss@${domain},ceo@${domain}`];
    const newRule = await runSendguard(args, asAdmin);
    expect(newRule).toMatchObject({ code: 0 });
    expect(jsonOf(newRule)).toMatchObject({ Name: 'Sales senders', State: 'Enabled', Priority: 0, HostedOutboundSpamFilterPolicy: 'Sales', SenderDomainIs: [domain], ExceptIfFrom: [`boss@${domain}`, `ceo@${domain}`] });

    const disabled = await runSendguard(['Disable-HostedOutboundSpamFilterRule', 'Sales senders'], asAdmin);
    expect(jsonOf(disabled)).toMatchObject({ State: 'Disabled' });
    expect(jsonOf<Json[]>(await runSendguard(['get-hosted-outbound-spam-filter-rule', '--state', 'Enabled'], asAdmin))).toEqual([]);

    const whatIf = await runSendguard(['set-hosted-outbound-spam-filter-rule', 'Sales senders', '--except-if-from', '', '--what-if'], asAdmin);
    expect(whatIf.stderr).toContain(`ExceptIfFrom: {boss@${domain}, ceo@${domain}} → {}`);

    const table = await runSendguard(['get-hosted-outbound-spam-filter-rule', '-o', 'table'], asAdmin);
    expect(table.stdout.split('\n')[2]).toMatch(/^Sales senders +Disabled +0 +Sales$/);

    expect(await runSendguard(['remove-hosted-outbound-spam-filter-rule', 'Sales senders'], asAdmin)).toMatchObject({ code: 2 });
    expect(await runSendguard(['remove-hosted-outbound-spam-filter-rule', 'Sales senders', '--yes'], asAdmin)).toMatchObject({ code: 0 });
    expect(await runSendguard(['get-hosted-outbound-spam-filter-rule', 'Sales senders'], asAdmin)).toMatchObject({ code: 3 });
  });

  it('exits 2 when the server rejects a rule without a condition, 3 for a rule on an unknown policy', async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Marketing'], asAdmin)).toMatchObject({ code: 0 });
    const noCondition = await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Empty', '--hosted-outbound-spam-filter-policy', 'Marketing'], asAdmin);
    expect(noCondition).toMatchObject({ code: 2, stdout: '' });
    expect(noCondition.stderr).toContain('a rule needs at least one condition');
    const unknownPolicy = await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Ghost', '--hosted-outbound-spam-filter-policy', 'Nope', '--from', tenant.address('ann')], asAdmin);
    expect(unknownPolicy).toMatchObject({ code: 3 });
    expect(unknownPolicy.stderr).toContain('Nope');
  });

  it('New-HostedOutboundSpamFilterRule -WhatIf refuses what the real call would, with its exit code and message: bad names, addresses, domains, comments, policies, priorities, no condition; nothing changes', { timeout: SLOW }, async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Legal'], asAdmin)).toMatchObject({ code: 0 });
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Audit'], asAdmin)).toMatchObject({ code: 0 });
    expect(await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Legal senders', '--hosted-outbound-spam-filter-policy', 'Legal', '--from', tenant.address('legal')], asAdmin)).toMatchObject({ code: 0 });
    const before = await runSendguard(['get-hosted-outbound-spam-filter-rule'], asAdmin);
    const count = jsonOf<Json[]>(before).length;

    const newRule = (name: string, policy: string, ...more: string[]) => ['New-HostedOutboundSpamFilterRule', '-Name', name, '-HostedOutboundSpamFilterPolicy', policy, ...more];
    const from = ['-From', tenant.address('auditor')];
    await expectWhatIfRefusesAsReal(newRule('Audit; senders', 'Audit', ...from), 'name must not contain ; (none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , ")');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', '-From', 'auditor'), 'from: auditor is not an e-mail address');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', '-SenderDomainIs', 'localhost'), 'senderDomainIs: localhost is not a domain name');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', ...from, '-ExceptIfSenderDomainIs', '-bad-.example'), 'exceptIfSenderDomainIs: -bad-.example is not a domain name');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', ...from, '-Comments', 'x'.repeat(1001)), 'comments must be at most 1000 characters');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Nope', ...from), 'outbound spam policy Nope was not found', 3);
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'default', ...from), 'the Default policy applies to everyone else and takes no rule');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'legal', ...from), 'the policy Legal already has a rule');
    await expectWhatIfRefusesAsReal(newRule('LEGAL senders', 'Audit', ...from), 'a rule named Legal senders already exists');
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', ...from, '-Priority', String(count + 1)), `priority must be a whole number from 0 to ${count}`);
    await expectWhatIfRefusesAsReal(newRule('Audit senders', 'Audit', '-ExceptIfFrom', tenant.address('boss')), 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs');
    expect(await runSendguard(['get-hosted-outbound-spam-filter-rule'], asAdmin)).toEqual(before);
  });

  it('Set-HostedOutboundSpamFilterRule -WhatIf refuses what the real call would (exit 2, the same message): a bad address, long comments, no condition left, a priority past the last; nothing changes', { timeout: SLOW }, async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Records'], asAdmin)).toMatchObject({ code: 0 });
    expect(await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Records senders', '--hosted-outbound-spam-filter-policy', 'Records', '--from', tenant.address('records')], asAdmin)).toMatchObject({ code: 0 });
    const before = await runSendguard(['get-hosted-outbound-spam-filter-rule'], asAdmin);
    const count = jsonOf<Json[]>(before).length;

    const setRule = (...more: string[]) => ['Set-HostedOutboundSpamFilterRule', '-Identity', 'records senders', ...more];
    await expectWhatIfRefusesAsReal(setRule('-ExceptIfFromMemberOf', 'partners'), 'exceptIfFromMemberOf: partners is not an e-mail address');
    await expectWhatIfRefusesAsReal(setRule('-Comments', 'x'.repeat(1001)), 'comments must be at most 1000 characters');
    await expectWhatIfRefusesAsReal(setRule('-From', ''), 'a rule needs at least one condition: from, fromMemberOf or senderDomainIs');
    await expectWhatIfRefusesAsReal(setRule('-Priority', String(count)), `priority must be a whole number from 0 to ${count - 1}`);
    expect(await runSendguard(['get-hosted-outbound-spam-filter-rule'], asAdmin)).toEqual(before);
  });

  it('takes a list written as in PowerShell with a space after each comma (-From a, b), and never drops its later values', async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Finance'], asAdmin)).toMatchObject({ code: 0 });
    const [ann, bob, cat] = [tenant.address('fin-ann'), tenant.address('fin-bob'), tenant.address('fin-cat')];
    // What a POSIX shell makes of `-From ann, bob, cat`: three words, the first two ending in a comma.
    const created = await runSendguard(['New-HostedOutboundSpamFilterRule', '-Name', 'Finance senders', '-HostedOutboundSpamFilterPolicy', 'Finance', '-From', `${ann},`, `${bob},`, cat], asAdmin);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(jsonOf(created)).toMatchObject({ From: [ann, bob, cat] });
    const changed = await runSendguard(['Set-HostedOutboundSpamFilterRule', '-Identity', 'Finance senders', '-From', `${cat},`, ann], asAdmin);
    expect(changed).toMatchObject({ code: 0, stderr: '' });
    expect(jsonOf(changed)).toMatchObject({ From: [cat, ann] });
  });

  it('exits 2 and changes nothing when a rule is named twice, by -Identity and by position, differently', async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Payroll'], asAdmin)).toMatchObject({ code: 0 });
    const from = tenant.address('payroll');
    expect(await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Payroll senders', '--hosted-outbound-spam-filter-policy', 'Payroll', '--from', from], asAdmin)).toMatchObject({ code: 0 });
    const twice = await runSendguard(['Set-HostedOutboundSpamFilterRule', '-Identity', 'Payroll senders', 'Other rule', '-Comments', 'changed'], asAdmin);
    expect([twice.code, twice.stdout]).toEqual([2, '']);
    expect(twice.stderr).toContain('the rule is named twice: --identity "Payroll senders" and "Other rule"');
    expect(jsonOf(await runSendguard(['get-hosted-outbound-spam-filter-rule', 'Payroll senders'], asAdmin))).toEqual([expect.objectContaining({ Comments: null })]);
  });

  it('-Comments "" clears a rule\'s comments; -WhatIf says so, and that nothing would change once they are gone', { timeout: SLOW }, async () => {
    const own = await createTestTenant(api.database);
    const asOwnAdmin = clientEnv(api.graphqlUrl, await api.token({ tenantId: own.id, roles: ['Organization Management'], principalId: 'oid-adele', name: 'Adele Vance' }));
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Legal'], asOwnAdmin)).toMatchObject({ code: 0 });
    const created = await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Legal senders', '--hosted-outbound-spam-filter-policy', 'Legal', '--from', own.address('legal'), '--comments', 'EMEA'], asOwnAdmin);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const clear = ['Set-HostedOutboundSpamFilterRule', '-Identity', 'Legal senders', '-Comments', ''];
    expect(await runSendguard([...clear, '-WhatIf'], asOwnAdmin)).toMatchObject({ code: 0, stderr: 'What if: Changing outbound spam rule "Legal senders": \n  Comments: EMEA → (empty)\n' });
    expect(jsonOf(await runSendguard(clear, asOwnAdmin))).toMatchObject({ Name: 'Legal senders', Comments: null });
    expect(await runSendguard([...clear, '-WhatIf'], asOwnAdmin)).toMatchObject({ code: 0, stderr: 'What if: Changing outbound spam rule "Legal senders": nothing would change.\n' });
  });

  it('exits 2 for an empty -Identity or -ConnectorId, instead of listing them all or looking for nothing', async () => {
    const cases = [
      ['Get-HostedOutboundSpamFilterPolicy', '-Identity', ''],
      ['Get-HostedOutboundSpamFilterRule', ' '],
      ['Get-ProtectionAlert', '-Identity', ''],
      ['Get-BlockedConnector', '-ConnectorId', ''],
      ['Remove-BlockedConnector', '-ConnectorId', ' ', '-Confirm:$false'],
    ];
    for (const args of cases) {
      const result = await runSendguard(args, asAdmin);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/is empty/);
    }
  });

  it('finds a rule by its name in any case, as the API does', async () => {
    expect(await runSendguard(['new-hosted-outbound-spam-filter-policy', '--name', 'Support'], asAdmin)).toMatchObject({ code: 0 });
    const created = await runSendguard(['new-hosted-outbound-spam-filter-rule', '--name', 'Support desk', '--hosted-outbound-spam-filter-policy', 'support', '--from', tenant.address('desk')], asAdmin);
    expect(created).toMatchObject({ code: 0 });
    expect(jsonOf<Json[]>(await runSendguard(['Get-HostedOutboundSpamFilterRule', 'support desk'], asAdmin))).toEqual([expect.objectContaining({ Name: 'Support desk' })]);
    expect(jsonOf(await runSendguard(['Disable-HostedOutboundSpamFilterRule', '-Identity', 'SUPPORT DESK'], asAdmin))).toMatchObject({ Name: 'Support desk', State: 'Disabled' });
    expect(jsonOf(await runSendguard(['Set-HostedOutboundSpamFilterRule', '-Identity', 'support Desk', '-Comments', 'helpdesk'], asAdmin))).toMatchObject({ Name: 'Support desk', Comments: 'helpdesk' });
    expect(await runSendguard(['Remove-HostedOutboundSpamFilterRule', 'support desk', '-Confirm:$false'], asAdmin)).toMatchObject({ code: 0 });
    expect(await runSendguard(['get-hosted-outbound-spam-filter-rule', 'Support desk'], asAdmin)).toMatchObject({ code: 3 });
  });
});
