import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
