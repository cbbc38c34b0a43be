import { domainToASCII } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit-log.ts';
import { clientEnv, jsonOf } from '../helpers/cli.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { runSendguard } from '../helpers/process.ts';

let api: TestApi;
let tenant: TestTenant;
let asAdmin: Record<string, string | undefined>;

beforeAll(async () => {
  api = await startTestApi();
  tenant = await createTestTenant(api.database);
  asAdmin = clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Security Administrator'], principalId: 'oid-adele', name: 'Adele Vance' }));
});
afterAll(async () => api.stop());

describe('relay credential verbs', () => {
  it('creates a credential with the password from stdin, lists it as JSON, and removes it with --yes', async () => {
    const username = tenant.address('scanner');
    const password = 'scanner password from stdin';

    const created = await runSendguard(['new-relay-credential', '--username', username, '--password-stdin'], asAdmin, `${password}\n`);
    expect(created).toMatchObject({ code: 0 });
    expect(jsonOf(created)).toEqual({ UserName: username, WhenCreated: expect.stringMatching(/Z$/) });
    expect(created.stdout + created.stderr).not.toContain(password);
    // The trailing newline is not part of the password.
    expect(await api.services.relayCredentials.verify(username, password)).toEqual({ tenantId: tenant.id, username });

    const listed = await runSendguard(['Get-RelayCredential', '-o', 'json'], asAdmin);
    expect(listed).toMatchObject({ code: 0 });
    expect(jsonOf(listed)).toEqual([{ UserName: username, WhenCreated: expect.stringMatching(/Z$/) }]);

    expect(await runSendguard(['new-relay-credential', '--username', username, '--password-stdin'], asAdmin, 'another password\n')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`the relay user name ${username} is taken`),
    });
    expect(await runSendguard(['remove-relay-credential', '--username', username], asAdmin)).toMatchObject({ code: 2 });
    expect(await runSendguard(['Remove-RelayCredential', '-Username', username, '-Confirm:$false'], asAdmin)).toMatchObject({ code: 0 });
    expect(await api.services.relayCredentials.verify(username, password)).toBeUndefined();
    expect(await runSendguard(['get-relay-credential', '--username', username], asAdmin)).toMatchObject({ code: 3, stdout: '' });
  });

  it('-WhatIf refuses what the real call would (exit 2, the same message): a user name with a space, colon or control character or over 256 characters, taken, or in another organisation\'s domain, a password under 12; nothing changes', { timeout: 180_000 }, async () => {
    const expectWhatIfRefusesAsReal = async (args: string[], message: string) => {
      const verb = (args[0] ?? '').replace(/(?<=[a-z])[A-Z]/g, (l) => `-${l}`).toLowerCase();
      const real = await runSendguard(args, asAdmin);
      expect(real).toEqual({ code: 2, stdout: '', stderr: `sendguard ${verb}: ${message}\n` });
      expect(await runSendguard([...args, '-WhatIf'], asAdmin)).toEqual(real);
    };
    const badUsername = 'a user name is 1 to 256 characters without spaces, colons or control characters';
    const password = 'a long enough password';
    for (const username of ['scan ner', 'scan:ner', 'scan\u0007ner', 'x'.repeat(257)]) {
      await expectWhatIfRefusesAsReal(['New-RelayCredential', '-Username', username, '-Password', password], badUsername);
    }
    await expectWhatIfRefusesAsReal(['New-RelayCredential', '-Username', tenant.address('copier'), '-Password', 'too short'], 'a relay password has at least 12 characters');
    expect(jsonOf(await runSendguard(['Get-RelayCredential'], asAdmin))).toEqual([]);

    // What only the database knows: a user name another organisation holds, an address in another organisation's domain.
    const other = await createTestTenant(api.database);
    await api.services.relayCredentials.create({ tenantId: other.id, username: 'scanner-7', password });
    await expectWhatIfRefusesAsReal(['New-RelayCredential', '-Username', 'Scanner-7', '-Password', password], 'the relay user name scanner-7 is taken');
    await expectWhatIfRefusesAsReal(['New-RelayCredential', '-Username', other.address('fax'), '-Password', password], `${other.address('fax')} is an address of another organisation's domain`);
    expect(jsonOf(await runSendguard(['Get-RelayCredential'], asAdmin))).toEqual([]);

    // One the call would create: said on stderr, and neither created nor audited.
    const username = tenant.address('printer');
    expect(await runSendguard(['New-RelayCredential', '-Username', username.toUpperCase(), '-Password', password, '-WhatIf'], asAdmin)).toEqual({
      code: 0, stdout: '', stderr: `What if: Creating relay credential "${username}". Nothing was changed.\n`,
    });
    expect(jsonOf(await runSendguard(['Get-RelayCredential'], asAdmin))).toEqual([]);
    const audited = () => api.database.db.select().from(auditLog).where(and(eq(auditLog.tenantId, tenant.id), eq(auditLog.action, 'New-RelayCredential'), eq(auditLog.target, username)));
    expect(await audited()).toEqual([]);
    // A read-only admin is refused as by the real call (exit 4).
    const asReader = clientEnv(api.graphqlUrl, await api.token({ tenantId: tenant.id, roles: ['Global Reader'], principalId: 'oid-grady', name: 'Grady Archie' }));
    const refused = await runSendguard(['New-RelayCredential', '-Username', username, '-Password', password], asReader);
    expect(refused).toMatchObject({ code: 4, stdout: '' });
    expect(await runSendguard(['New-RelayCredential', '-Username', username, '-Password', password, '-WhatIf'], asReader)).toEqual(refused);
    expect(await runSendguard(['new-relay-credential', '--username', username, '--password', password], asAdmin)).toMatchObject({ code: 0 });
    expect(await audited()).toHaveLength(1);
    await expectWhatIfRefusesAsReal(['Set-RelayCredential', '-Username', username, '-Password', 'too short'], 'a relay password has at least 12 characters');
    expect(await api.services.relayCredentials.verify(username, password)).toEqual({ tenantId: tenant.id, username });
  });

  it('finds a credential by any spelling of its address, as it logs in: an internationalised domain in UTF-8, a trailing dot', async () => {
    const domain = `${tenant.id.slice(-8)}-bücher.example`;
    const stored = `fax@${domainToASCII(domain)}`;
    const password = 'a long enough password';
    expect(await runSendguard(['new-relay-credential', '--username', `fax@${domain}`, '--password', password], asAdmin)).toMatchObject({ code: 0 });
    expect(await api.services.relayCredentials.verify(`fax@${domain}`, password)).toEqual({ tenantId: tenant.id, username: stored });

    const listed = await runSendguard(['Get-RelayCredential', '-UserName', `FAX@${domain}`], asAdmin);
    expect(listed).toMatchObject({ code: 0 });
    expect(jsonOf(listed)).toEqual([{ UserName: stored, WhenCreated: expect.stringMatching(/Z$/) }]);
    expect(await runSendguard(['Set-RelayCredential', '-UserName', `${stored}.`, '-Password', 'another long password'], asAdmin)).toMatchObject({ code: 0 });
    expect(await api.services.relayCredentials.verify(stored, 'another long password')).toEqual({ tenantId: tenant.id, username: stored });
    expect(await runSendguard(['Remove-RelayCredential', '-UserName', `fax@${domain}`, '-Confirm:$false'], asAdmin)).toMatchObject({ code: 0 });
    expect(await api.services.relayCredentials.verify(stored, 'another long password')).toBeUndefined();
  });
});
