import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testDir } from '../helpers/config.ts';
import { sendguardLauncher, startServerProcess } from '../helpers/process.ts';

/**
 * Starts `sendguard serve` (`--only` the roles given, else every role) on the embedded database
 * through the launcher, with a module hook that writes down every module the process loads, and
 * returns the npm packages among them.
 */
async function packagesLoaded(only: string[] | undefined, env: Record<string, string> = {}): Promise<Set<string>> {
  const dir = testDir('modules');
  const log = path.join(dir, 'loaded.txt');
  const hooks = path.join(dir, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }
`);
  const register = path.join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  // Writing down every module load makes start-up slow: tens of seconds on a busy 2-core machine.
  const server = await startServerProcess(only ? ['--only', only.join(',')] : [], {
    SENDGUARD_DATA_DIR: path.join(dir, 'data'), SENDGUARD_HTTP_PORT: '0', SENDGUARD_POLICY_PORT: '0', SENDGUARD_LOG_LEVEL: 'warn',
    SENDGUARD_TENANT_ID: 'contoso', SENDGUARD_TENANT_NAME: 'Contoso', SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com',
    SENDGUARD_NOTIFY_SMTP_URL: 'smtp://127.0.0.1:1', DATABASE_URL: '', NODE_OPTIONS: `--import ${register}`, NODE_ENV: 'development',
    MicrosoftAppId: '', SENDGUARD_BOT_DEV_NO_AUTH: 'false', ...env,
  }, (only ?? ['policy']).includes('policy') ? ['http', 'policy'] : ['http'], sendguardLauncher, 90_000);
  expect(await server.stop()).toBe(0);
  const packages = readFileSync(log, 'utf8').split('\n').flatMap((url) => {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    return m?.[1] ? [m[1]] : [];
  });
  return new Set(packages);
}

describe.skipIf(process.platform !== 'linux')('what a process loads', { timeout: 200_000 }, () => {
  it('on the embedded database, a policy server loads neither the PostgreSQL client nor the API, bot, token or mail libraries', async () => {
    const loaded = await packagesLoaded(['policy']);
    expect(loaded).toContain('@electric-sql/pglite');
    for (const unused of ['postgres', 'graphql', 'graphql-yoga', '@pothos/core', 'botbuilder', 'jose', 'nodemailer']) expect(loaded).not.toContain(unused);
  });

  it('with every role, as npm start runs it, loads botbuilder only once the Teams bot is set up', async () => {
    const notSetUp = await packagesLoaded(undefined);
    expect(notSetUp).toContain('graphql-yoga');
    expect(notSetUp).not.toContain('botbuilder');
    // The development flag is enough for the bot to start: then it is loaded.
    expect(await packagesLoaded(undefined, { SENDGUARD_BOT_DEV_NO_AUTH: 'true' })).toContain('botbuilder');
  });
});
