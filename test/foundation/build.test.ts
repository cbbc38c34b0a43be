import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { repoRoot, runSendguard, startServerProcess } from '../helpers/process.ts';
import { testDir } from '../helpers/config.ts';

const run = promisify(execFile);

// `npm start` runs the build; the tests otherwise run the sources, so the build is checked here.
describe('the compiled build', () => {
  it('builds, and the built program serves GraphQL and the policy protocol on the embedded database', async () => {
    // Inside the checkout, so the build finds node_modules as dist/ does (test/artifacts is not committed).
    mkdirSync(path.join(repoRoot, 'test/artifacts'), { recursive: true });
    const out = mkdtempSync(path.join(repoRoot, 'test/artifacts/build-'));
    await run(process.execPath, [path.join(repoRoot, 'scripts/build.js'), out], { cwd: repoRoot });
    expect(existsSync(path.join(out, '.build-complete'))).toBe(true);
    const entry = path.join(out, 'cli', 'main.js');
    const env = {
      SENDGUARD_DATA_DIR: testDir('built'),
      SENDGUARD_HTTP_PORT: '0',
      SENDGUARD_POLICY_PORT: '0',
      SENDGUARD_TENANT_ID: 'contoso',
      SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com',
      DATABASE_URL: '',
    };
    const server = await startServerProcess(['--only', 'api,policy'], env, ['http', 'policy'], entry);
    try {
      const policy = await PolicyClient.connect(Number(new URL(server.urls.policy as string).port));
      expect(await policy.ask(rcptRequest({ sender: 'ann@contoso.com', recipient: 'bob@fabrikam.test', instance: 'm1' }))).toBe('DUNNO');
      policy.close();

      const token = await runSendguard(['token', '--tenant', 'contoso', '--principal', 'adele@contoso.com', '--role', 'Security Reader'], env, undefined, entry);
      expect(token.code).toBe(0);
      const res = await fetch(`${server.urls.http}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ restrictedUsers(first: 5) { totalCount } }' }),
      });
      expect(await res.json()).toEqual({ data: { restrictedUsers: { totalCount: 0 } } });
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
