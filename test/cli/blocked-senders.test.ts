import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../api/auth/local-token.ts';
import { loadOrCreateSigningKey } from '../../api/auth/signing-key.ts';
import { z } from 'zod';
import { createGraphQLClient } from '../../cli/exchange/graphql-client.ts';
import { recommendationKinds } from '../../domain/restrictions/recommendations.ts';
import { CliError, ExitCode } from '../../cli/exchange/exit-codes.ts';
import { repoRoot, runSendguard } from '../helpers/process.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { clientEnv, hasScript, jsonOf, needsScript, runVerbOnTerminal } from '../helpers/cli.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { startTestApi, type TestApi } from '../helpers/graphql.ts';
import { policyActor, secondAdmin } from '../helpers/services.ts';
import { testDir } from '../helpers/config.ts';

let api: TestApi;
let tenant: TestTenant;
let adminToken: string;
let readerToken: string;

beforeAll(async () => {
  api = await startTestApi({ env: { SENDGUARD_UNBLOCK_QUOTA: '1' } });
  tenant = await createTestTenant(api.database);
  adminToken = await api.token({ tenantId: tenant.id, roles: ['Security Administrator'], name: 'Adele Vance' });
  readerToken = await api.token({ tenantId: tenant.id, roles: ['Global Reader'], principalId: 'oid-reader', name: 'Grady Archie' });
});
afterAll(async () => api.stop());

const asAdmin = () => clientEnv(api.graphqlUrl, adminToken);

/** Runs a command line through /bin/sh, as an admin's shell would read it. */
function runShell(script: string, env: Record<string, string | undefined>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script], { env: { ...process.env, ...env } }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
}
const asReader = () => clientEnv(api.graphqlUrl, readerToken);

async function restrict(address: string, tenantId = tenant.id) {
  const { restriction } = await api.running.services.restrictions.restrict({
    tenantId,
    entityKind: 'user',
    entityKey: address,
    reasonCode: 'SendingLimitExceeded',
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 500,
    internalRecipientCount: 12,
    externalRecipientCount: 501,
    lastMessageRecipientCount: 7,
    policy: { id: null, name: 'Default', action: 'BlockUser' },
    temporary: false,
    actor: policyActor,
  });
  return restriction;
}

async function statusOf(address: string) {
  return (await api.running.services.restrictionQueries.latest(tenant.id, 'user', address))?.status;
}

describe('get-blocked-sender-address', () => {
  it('prints JSON with the Exchange property names when piped, only for the caller’s tenant', async () => {
    const address = tenant.address('ann');
    const restriction = await restrict(address);
    const other = await createTestTenant(api.database);
    await restrict(other.address('ann'), other.id);

    const result = await runSendguard(['get-blocked-sender-address'], asAdmin());
    expect(result.code).toBe(0);
    const rows = jsonOf<Record<string, unknown>[]>(result);
    expect(rows.find((r) => r.SenderAddress === address)).toEqual({
      SenderAddress: address,
      Reason: 'EmailSendingLimitExceeded;InternalRecipientCountToday=12;ExternalRecipientCountToday=501;ExceedingLimitType=External;LastMessageRcptCount=7',
      CreatedDatetime: restriction.createdAt.toISOString(),
      ChangedDatetime: restriction.changedAt.toISOString(),
      TemporaryBlock: false,
    });
    expect(rows.map((r) => r.SenderAddress)).not.toContain(other.address('ann'));
  });

  it('prints [] and exits 0 when nobody is restricted', async () => {
    const empty = await createTestTenant(api.database);
    const result = await runSendguard(['get-blocked-sender-address'], clientEnv(api.graphqlUrl, await api.token({ tenantId: empty.id })));
    expect(result).toMatchObject({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('prints a PowerShell-style table with -o table', async () => {
    const address = tenant.address('table');
    await restrict(address);
    const result = await runSendguard(['get-blocked-sender-address', '--sender-address', address, '-o', 'table'], asAdmin());
    expect(result.code).toBe(0);
    const [header, rule, row] = result.stdout.split('\n');
    expect(header?.split(/\s+/)).toEqual(['SenderAddress', 'Reason', 'CreatedDatetime', 'ChangedDatetime', 'TemporaryBlock']);
    expect(rule).toMatch(/^-{13} +-{6} +-{15} +-{15} +-{14}$/);
    expect(row).toMatch(new RegExp(`^${address.replace(/\./g, '\\.')} +EmailSendingLimitExceeded;\\S+ +\\S+Z +\\S+Z +False$`));
  });

  it('keeps its output on its lines, and the terminal untouched, when a value holds line breaks or escape sequences', async () => {
    const address = tenant.address('multiline');
    await restrict(address);
    const reason = 'MFA on\npassword reset\r\n\u001b[2Jcleared\tscreen';
    const result = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--reason', reason, '--yes', '-o', 'table'], asAdmin());
    expect(result.code).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.startsWith('ReleaseReason'))).toBe('ReleaseReason    : MFA on password reset \ufffd[2Jcleared screen');
  });

  it('accepts the PowerShell spelling: cmdlet name, -Parameter value, -Parameter:value, any case', async () => {
    const address = tenant.address('pwsh');
    await restrict(address);
    for (const args of [
      ['Get-BlockedSenderAddress', '-SenderAddress', address],
      ['Get-BlockedSenderAddress', `-SenderAddress:${address}`],
      ['get-blockedsenderaddress', '-senderaddress', address],
    ]) {
      const result = await runSendguard(args, asAdmin());
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(jsonOf<{ SenderAddress: string }[]>(result).map((r) => r.SenderAddress)).toEqual([address]);
    }
  });

  it('exits 3 for a sender that is not restricted, and for one that was released', async () => {
    const never = await runSendguard(['get-blocked-sender-address', '--sender-address', tenant.address('nobody')], asAdmin());
    expect(never).toMatchObject({ code: 3, stdout: '' });
    expect(never.stderr).toContain('is not a blocked sender');

    const address = tenant.address('was-released');
    await restrict(address);
    expect((await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asAdmin())).code).toBe(0);
    const released = await runSendguard(['get-blocked-sender-address', '--sender-address', address], asAdmin());
    expect(released.code).toBe(3);
    expect(released.stderr).toMatch(/its last restriction is released since \S+ \(released by Adele Vance\)/);
  });
});

describe('remove-blocked-sender-address', () => {
  it('releases with -Confirm:$false, prints the release, and a second removal exits 3', async () => {
    const address = tenant.address('bob');
    await restrict(address);
    const result = await runSendguard(['Remove-BlockedSenderAddress', '-SenderAddress', address, '-Reason', 'MFA enabled, password reset', '-Confirm:$false'], asAdmin());
    expect(result.code).toBe(0);
    expect(jsonOf(result)).toMatchObject({ SenderAddress: address, Status: 'RELEASED', ReleasedBy: 'Adele Vance', ReleaseReason: 'MFA enabled, password reset' });
    expect(await statusOf(address)).toBe('Released');

    const again = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asAdmin());
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('is not a blocked sender');
  });

  it('refuses without --yes when stdin is not a terminal (exit 2), and changes nothing', async () => {
    const address = tenant.address('script');
    await restrict(address);
    const result = await runSendguard(['remove-blocked-sender-address', '--sender-address', address], asAdmin(), 'y\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Pass --yes (or -Confirm:'$false') to confirm.");
    expect(await statusOf(address)).toBe('Restricted');
  });

  it('refuses -Confirm: without a value (exit 2), what a POSIX shell leaves of an unquoted -Confirm:$false, saying how to write it', async () => {
    const address = tenant.address('bash');
    await restrict(address);
    const result = await runSendguard(['Remove-BlockedSenderAddress', '-SenderAddress', address, '-Confirm:'], asAdmin());
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain("-Confirm: needs a value, $true or $false: quote it in a POSIX shell ('$false'), or write true or false");
    expect(await statusOf(address)).toBe('Restricted');
    const quoted = await runSendguard(['Remove-BlockedSenderAddress', '-SenderAddress', address, '-Confirm:false'], asAdmin());
    expect(quoted).toMatchObject({ code: 0 });
    expect(await statusOf(address)).toBe('Released');
  });

  it.each([
    ['the example in `sendguard --help`', async () => (await runSendguard(['--help'])).stdout],
    ['the refusal without --yes', async (address: string) => (await runSendguard(['remove-blocked-sender-address', '--sender-address', address], asAdmin())).stderr],
  ])('%s, as a POSIX shell runs it, releases the sender', async (_, text) => {
    const address = tenant.address(`shell-${Math.random().toString(36).slice(2, 8)}`);
    await restrict(address);
    const shown = /-Confirm:(?:'[^']*'|[^\s)]+)/.exec(await text(address))?.[0];
    expect(shown).toBeDefined();
    const script = `"$NODE" "$SENDGUARD" Remove-BlockedSenderAddress -SenderAddress ${address} ${shown}`;
    const result = await runShell(script, { ...asAdmin(), NODE: process.execPath, SENDGUARD: path.join(repoRoot, 'bin/sendguard.js') });
    expect(result, shown).toMatchObject({ code: 0 });
    expect(await statusOf(address)).toBe('Released');
  });

  it('--what-if (-WhatIf) says what it would do and changes nothing', async () => {
    const address = tenant.address('whatif');
    await restrict(address);
    for (const args of [
      ['remove-blocked-sender-address', '--sender-address', address, '--what-if'],
      ['Remove-BlockedSenderAddress', '-SenderAddress', address, '-WhatIf'],
    ]) {
      const result = await runSendguard(args, asAdmin());
      expect(result).toMatchObject({ code: 0, stdout: '' });
      expect(result.stderr).toContain(`What if: Releasing the blocked sender "${address}"`);
    }
    expect(await statusOf(address)).toBe('Restricted');
    const notRestricted = await runSendguard(['remove-blocked-sender-address', '--sender-address', tenant.address('nobody'), '--what-if'], asAdmin());
    expect(notRestricted.code).toBe(3);
  });

  it('--what-if refuses what the release would: a reason over 1000 characters (exit 2), a read-only admin (exit 4), with the same message; nothing changes', async () => {
    const address = tenant.address('whatif-checked');
    await restrict(address);
    const tooLong = ['Remove-BlockedSenderAddress', '-SenderAddress', address, '-Reason', 'x'.repeat(1001)];
    const real = await runSendguard([...tooLong, '-Confirm:$false'], asAdmin());
    expect(real).toMatchObject({ code: 2, stdout: '', stderr: 'sendguard remove-blocked-sender-address: reason must be at most 1000 characters\n' });
    expect(await runSendguard([...tooLong, '-WhatIf'], asAdmin())).toEqual(real);

    const byReader = ['remove-blocked-sender-address', '--sender-address', address, '--reason', 'password reset'];
    const refused = await runSendguard([...byReader, '--yes'], asReader());
    expect(refused).toMatchObject({ code: 4, stdout: '', stderr: expect.stringContaining('Forbidden') });
    expect(await runSendguard([...byReader, '--what-if'], asReader())).toEqual(refused);
    expect(await statusOf(address)).toBe('Restricted');
  });

  it('takes the acknowledged recommendations in any spelling, and exits 2 naming the kinds for one the API does not know', async () => {
    const address = tenant.address('acknowledged');
    await restrict(address);
    const bogus = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--acknowledged-recommendations', 'ENABLE_MFA,BOGUS', '--yes'], asAdmin());
    expect([bogus.code, bogus.stdout]).toEqual([2, '']);
    expect(bogus.stderr).toContain(`BOGUS is not one of ${recommendationKinds.join(', ')}`);
    expect(await statusOf(address)).toBe('Restricted');

    const args = ['Remove-BlockedSenderAddress', '-SenderAddress', address, '-AcknowledgedRecommendations', 'enable_mfa,ResetPassword,revoke-sessions', '-Confirm:$false'];
    expect(await runSendguard(args, asAdmin())).toMatchObject({ code: 0 });
    const releases = await api.gql<{ restrictedUser: { releases: { acknowledgedRecommendations: string[] }[] } }>(
      adminToken, 'query ($a: String!) { restrictedUser(senderAddress: $a) { releases { acknowledgedRecommendations } } }', { a: address },
    );
    expect(releases.body.data?.restrictedUser.releases).toEqual([{ acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS'] }]);
  });

  it('exits 5 past the unblock quota and says when it resets', async () => {
    const address = tenant.address('repeat');
    await restrict(address);
    expect((await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asAdmin())).code).toBe(0);
    await restrict(address);
    // -WhatIf asks the server too: the quota is refused there as the release would be.
    const whatIf = await runSendguard(['Remove-BlockedSenderAddress', '-SenderAddress', address, '-WhatIf'], asAdmin());
    const result = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asAdmin());
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/released 1 times in the last 30 days \(at most 1\); the next release is possible at \S+Z/);
    expect(whatIf).toEqual(result);
    expect(await statusOf(address)).toBe('Restricted');
  });

  it.skipIf(!hasScript)(`prints a table on a terminal and asks there: "y" releases, "n" changes nothing (${needsScript})`, async () => {
    const declined = tenant.address('declined');
    await restrict(declined);
    const listed = await runVerbOnTerminal(['get-blocked-sender-address', '--sender-address', declined], asAdmin(), '');
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.output).toMatch(/^SenderAddress +Reason +CreatedDatetime +ChangedDatetime +TemporaryBlock\n-{13} /);

    const no = await runVerbOnTerminal(['remove-blocked-sender-address', '--sender-address', declined], asAdmin(), 'n\n');
    expect(no.output).toContain(`Are you sure you want to perform this action?\nReleasing the blocked sender "${declined}"`);
    expect(no.output).toContain('Cancelled: nothing was changed.');
    expect(no.code).toBe(1);
    expect(await statusOf(declined)).toBe('Restricted');

    const accepted = tenant.address('accepted');
    await restrict(accepted);
    const yes = await runVerbOnTerminal(['remove-blocked-sender-address', '--sender-address', accepted], asAdmin(), 'y\n');
    expect(yes.code).toBe(0);
    expect(yes.output).toMatch(/SenderAddress +: /);
    expect(await statusOf(accepted)).toBe('Released');
  });
  it.skipIf(!hasScript)(`releases only the restriction it asked about: restricted again while the prompt waited, it exits 5 and releases nothing (${needsScript})`, async () => {
    const address = tenant.address('changed');
    const first = await restrict(address);
    let second: Awaited<ReturnType<typeof restrict>> | undefined;
    const result = await runVerbOnTerminal(['remove-blocked-sender-address', '--sender-address', address], asAdmin(), async (output) => {
      if (!output.includes('Are you sure') || second) return undefined;
      // Meanwhile another admin releases the sender, and it is restricted again.
      const released = await api.running.services.unblock.release({
        tenantId: tenant.id, entityKind: 'user', entityKey: address, reason: 'done by another admin', acknowledgedRecommendations: [], actor: secondAdmin,
      });
      expect(released.ok).toBe(true);
      second = await restrict(address);
      return 'y\n';
    });
    expect(result.code).toBe(5);
    expect(result.output).toContain('is no longer the active one');
    expect(second?.id).not.toBe(first.id);
    expect(await statusOf(address)).toBe('Restricted');
  });
});

describe('authentication and permissions', () => {
  it('lets a read-only admin list but not release (exit 4)', async () => {
    const address = tenant.address('reader-target');
    await restrict(address);
    expect((await runSendguard(['get-blocked-sender-address', '--sender-address', address], asReader())).code).toBe(0);
    const result = await runSendguard(['remove-blocked-sender-address', '--sender-address', address, '--yes'], asReader());
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 4 });
    expect(result.stderr).toContain('Forbidden');
    expect(await statusOf(address)).toBe('Restricted');
  });

  it('exits 4 without a token and with a token signed by another key', async () => {
    const none = await runSendguard(['get-blocked-sender-address'], clientEnv(api.graphqlUrl, undefined));
    expect(none).toMatchObject({ code: 4, stdout: '' });
    expect(none.stderr).toContain('set SENDGUARD_TOKEN or pass --token');

    const otherKey = await loadOrCreateSigningKey(path.join(testDir('forger'), 'key.json'));
    const forged = await mintLocalToken(otherKey, { issuer: api.config.auth.tokenIssuer, audience: api.config.auth.tokenAudience }, { tenantId: tenant.id, principalId: 'mallory', roles: ['Global Administrator'] });
    const result = await runSendguard(['get-blocked-sender-address', '--token', forged], clientEnv(api.graphqlUrl, undefined));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('signature is not valid');
  });
});

describe('usage and failures', () => {
  it('exits 2 on usage errors: missing or unknown options, bad values, a bad URL', async () => {
    const cases = [
      ['remove-blocked-sender-address', '--yes'],
      ['get-blocked-sender-address', '--no-such-option'],
      ['Get-BlockedSenderAddress', '-NoSuchParameter', 'x'],
      ['get-blocked-sender-address', '-o', 'xml'],
      ['get-blocked-sender-address', '--url', 'ftp://127.0.0.1/graphql'],
      ['no-such-verb'],
    ];
    for (const args of cases) {
      const result = await runSendguard(args, asAdmin());
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).not.toBe('');
    }
  });

  it('exits 2 for an option given twice with different values, and releases neither sender', async () => {
    const [first, second] = [tenant.address('twice-a'), tenant.address('twice-b')];
    await restrict(first);
    await restrict(second);
    const result = await runSendguard(['Remove-BlockedSenderAddress', '-SenderAddress', first, '-SenderAddress', second, '-Confirm:$false'], asAdmin());
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr.trim().split('\n')[0]).toBe(`error: option '--sender-address <address>' is given twice: "${first}" and "${second}"; give it once`);
    expect([await statusOf(first), await statusOf(second)]).toEqual(['Restricted', 'Restricted']);
    // The same value twice is one value.
    expect((await runSendguard(['get-blocked-sender-address', '--sender-address', first, '--sender-address', first], asAdmin())).code).toBe(0);
  });

  it('exits 2 for an empty sender address, instead of listing every blocked sender', async () => {
    for (const value of ['', '  ']) {
      const result = await runSendguard(['Get-BlockedSenderAddress', '-SenderAddress', value], asAdmin());
      expect({ value, code: result.code, stdout: result.stdout }).toEqual({ value, code: 2, stdout: '' });
      expect(result.stderr).toContain('senderAddress must be 1 to 320 characters');
    }
  });

  it('exits 2 for a value the API cannot take as its type (HTTP 400, no error code)', async () => {
    const client = createGraphQLClient({ url: api.graphqlUrl, token: adminToken, timeoutSeconds: 10 });
    const release = 'mutation ($input: UnblockUserInput!) { unblockUser(input: $input) { __typename } }';
    const input = { senderAddress: tenant.address('typed'), reason: '', acknowledgedRecommendations: ['BOGUS'] };
    const failure = await client.request(release, { input }, z.unknown()).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ exitCode: ExitCode.usage, message: expect.stringContaining('the server rejected a value: Variable "$input" got invalid value "BOGUS"') });
  });

  it('exits 1 with a clear message when the server cannot be reached', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    await new Promise((resolve) => server.close(resolve));
    const url = `http://127.0.0.1:${port}/graphql`;
    const result = await runSendguard(['get-blocked-sender-address'], clientEnv(url, adminToken));
    expect([result.code, result.stdout, result.stderr]).toEqual([1, '', `sendguard get-blocked-sender-address: ${url}: connection refused (ECONNREFUSED); is Sendguard running there? Set SENDGUARD_URL or pass --url\n`]);
  });

  it('exits 1 naming the port when it is one the HTTP client refuses to connect to, not suggesting Sendguard is down', async () => {
    const url = 'http://127.0.0.1:6000/graphql';
    const result = await runSendguard(['get-blocked-sender-address', '--url', url], clientEnv(api.graphqlUrl, adminToken));
    expect([result.code, result.stdout, result.stderr]).toEqual([
      1,
      '',
      `sendguard get-blocked-sender-address: ${url}: port 6000 is one the CLI's HTTP client will not connect to (a port of another protocol); serve Sendguard's HTTP on another port (SENDGUARD_HTTP_PORT)\n`,
    ]);
  });

  it('exits 1 with one line naming the URL and what came back when it is not a GraphQL endpoint', async () => {
    const pages: Record<string, [number, string, string]> = {
      '/index.html': [200, 'text/html; charset=utf-8', '<!doctype html><title>Welcome</title>'],
      '/missing': [404, 'text/html', '<h1>Not Found</h1>'],
      '/text': [200, 'text/plain', 'hello\nworld'],
      '/other-api': [200, 'application/json', '{"status":"ok"}'],
      '/gateway': [502, 'text/html', '<h1>Bad Gateway</h1>'],
    };
    const server = createHttpServer((req, res) => {
      const [status, type, body] = pages[req.url ?? ''] ?? [500, 'text/plain', 'unexpected path'];
      res.writeHead(status, { 'content-type': type }).end(body);
    });
    const notHttp = createServer((socket) => socket.once('data', () => socket.end('action=DUNNO\n\n')));
    const port = (s: { address(): unknown }) => (s.address() as { port: number }).port;
    await Promise.all([server, notHttp].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
    try {
      const base = `http://127.0.0.1:${port(server)}`;
      const cases: [string, string][] = [
        [`${base}/index.html`, 'not a GraphQL endpoint (HTTP 200, text/html); check SENDGUARD_URL or --url'],
        [`${base}/missing`, 'not a GraphQL endpoint (HTTP 404, text/html); check SENDGUARD_URL or --url'],
        [`${base}/text`, 'not a GraphQL endpoint (HTTP 200, text/plain); check SENDGUARD_URL or --url'],
        [`${base}/other-api`, 'not a GraphQL endpoint (HTTP 200, application/json); check SENDGUARD_URL or --url'],
        [`${base}/gateway`, 'no answer from Sendguard behind it (HTTP 502, text/html); is it running?'],
        [`http://127.0.0.1:${port(notHttp)}/graphql`, 'not an HTTP server (HPE_INVALID_CONSTANT); check SENDGUARD_URL or --url'],
      ];
      for (const [url, what] of cases) {
        const result = await runSendguard(['get-blocked-sender-address', '--url', url], clientEnv(api.graphqlUrl, adminToken));
        expect([result.code, result.stdout, result.stderr]).toEqual([1, '', `sendguard get-blocked-sender-address: ${url}: ${what}\n`]);
      }
    } finally {
      await Promise.all([server, notHttp].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  it('exits 1 when the server does not answer in time, saying that a change may still have been made', async () => {
    const api = new URL(asAdmin().SENDGUARD_URL as string);
    const proxy = await startTcpProxy({ host: api.hostname, port: Number(api.port) });
    try {
      proxy.stall();
      const stalled = `http://127.0.0.1:${proxy.port}/graphql`;
      const read = await runSendguard(['get-blocked-sender-address', '--timeout', '1'], clientEnv(stalled, adminToken));
      expect([read.code, read.stdout, read.stderr]).toEqual([1, '', `sendguard get-blocked-sender-address: Sendguard at ${stalled} did not answer within 1 s (--timeout, SENDGUARD_TIMEOUT)\n`]);
      const fromEnv = await runSendguard(['get-blocked-sender-address'], { ...clientEnv(stalled, adminToken), SENDGUARD_TIMEOUT: '0.5' });
      expect([fromEnv.code, fromEnv.stderr]).toEqual([1, `sendguard get-blocked-sender-address: Sendguard at ${stalled} did not answer within 0.5 s (--timeout, SENDGUARD_TIMEOUT)\n`]);
      // Remove-BlockedSenderAddress reads the restriction first; its release is a mutation sent after.
      const client = createGraphQLClient({ url: stalled, token: adminToken, timeoutSeconds: 0.5 });
      await expect(client.request('mutation Release { unblockUser(input: {}) { __typename } }', {}, z.unknown())).rejects.toEqual(
        new CliError(ExitCode.failure, `Sendguard at ${stalled} did not answer within 0.5 s (--timeout, SENDGUARD_TIMEOUT); the change may still have been made: check before trying again`),
      );
    } finally {
      await proxy.close();
    }
    for (const [args, env, named] of [
      [['--timeout', '0'], {}, '--timeout'],
      [['--timeout', 'soon'], {}, '--timeout'],
      [[], { SENDGUARD_TIMEOUT: '-1' }, 'SENDGUARD_TIMEOUT'],
      [[], { SENDGUARD_TIMEOUT: '7200' }, 'SENDGUARD_TIMEOUT'],
      // Read as 16 and 1000 by a plain number conversion, as the server's settings no longer are.
      [['--timeout', '0x10'], {}, '--timeout'],
      [[], { SENDGUARD_TIMEOUT: '1e3' }, 'SENDGUARD_TIMEOUT'],
    ] as const) {
      const result = await runSendguard(['get-blocked-sender-address', ...args], { ...asAdmin(), ...env });
      expect([result.code, result.stdout]).toEqual([2, '']);
      expect(result.stderr).toContain(`${named} must be a number of seconds greater than 0 and at most 3600`);
    }
  });

  it('--timeout bounds the whole verb: a listing whose pages each answer in time still ends at the timeout, exit 1', async () => {
    let served = 0;
    // Every page answers within the timeout; twenty of them together do not.
    const slowPages = createHttpServer((_req, res) => {
      served++;
      const page = { pageInfo: { hasNextPage: served < 20, endCursor: `c${served}` }, edges: [] };
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { restrictedUsers: page } })), 300);
    });
    await new Promise<void>((resolve) => slowPages.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slowPages.address() as { port: number }).port}/graphql`;
      const result = await runSendguard(['get-blocked-sender-address', '--timeout', '1'], clientEnv(url, adminToken));
      expect([result.code, result.stdout, result.stderr]).toEqual([1, '', `sendguard get-blocked-sender-address: Sendguard at ${url} did not answer within 1 s (--timeout, SENDGUARD_TIMEOUT)\n`]);
      expect(served).toBeLessThan(20);
    } finally {
      await new Promise((resolve) => slowPages.close(resolve));
    }
  });

  it.skipIf(!hasScript)(`--timeout does not count the time the confirmation prompt waits for an answer (${needsScript})`, async () => {
    const address = tenant.address('slow-answer');
    await restrict(address);
    const result = await runVerbOnTerminal(['remove-blocked-sender-address', '--sender-address', address, '--timeout', '1'], asAdmin(), async (output) => {
      if (!output.includes('Are you sure')) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return 'y\n';
    });
    expect(result.code).toBe(0);
    expect(await statusOf(address)).toBe('Released');
  });

  it('documents the exit codes in --help', async () => {
    for (const args of [['--help'], ['remove-blocked-sender-address', '--help']]) {
      const result = await runSendguard(args, {});
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Exit codes:');
      expect(result.stdout).toMatch(/3 +not found/);
      expect(result.stdout).toMatch(/5 +refused by a rule \(unblock quota/);
    }
  });
});
