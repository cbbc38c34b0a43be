import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSendguard, type Role } from '../../cli/serve.ts';
import { createLogger } from '../../cli/logger.ts';
import { ConfigError } from '../../config/config.ts';
import { grantRole, postTeamsMessage } from '../helpers/bot.ts';
import { cardText } from '../helpers/cards/card-inspection.ts';
import { testConfig } from '../helpers/config.ts';
import { createTestDatabase, createTestTenant, type TestDatabase } from '../helpers/db.ts';
import { runSendguard } from '../helpers/process.ts';
import { policyActor } from '../helpers/services.ts';
import { cardOf, startTeamsConnector, type TeamsConnector } from '../helpers/teams-connector.ts';

let database: TestDatabase;
let connector: TeamsConnector;

beforeAll(async () => {
  database = await createTestDatabase();
  connector = await startTeamsConnector();
});
afterAll(async () => {
  await connector?.close();
  await database?.close();
});

function capturingLogger(level = 'warn') {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

async function startupError(env: Record<string, string>, roles: Role[]): Promise<unknown> {
  return startSendguard(testConfig(env), { roles, database, logger: createLogger('silent') }).then(
    async (running) => {
      await running.stop();
      return undefined;
    },
    (err: unknown) => err,
  );
}

describe('starting the bot', () => {
  it('refuses to start without an app id unless the development flag is set, and never with it in production', async () => {
    expect(await startupError({}, ['bot'])).toMatchObject({ variable: 'MicrosoftAppId' });
    expect(await startupError({ NODE_ENV: 'production', SENDGUARD_BOT_DEV_NO_AUTH: 'true' }, ['api', 'bot'])).toMatchObject({ variable: 'SENDGUARD_BOT_DEV_NO_AUTH' });
    const singleTenant = await startupError({ MicrosoftAppId: randomUUID(), MicrosoftAppPassword: 'secret' }, ['api', 'bot']);
    expect(singleTenant).toBeInstanceOf(ConfigError);
    expect(singleTenant).toMatchObject({ variable: 'MicrosoftAppTenantId' });
    expect(await startupError({ SENDGUARD_BOT_DEV_NO_AUTH: 'true' }, ['bot'])).toMatchObject({ variable: 'SENDGUARD_API_URL' });
  });

  it.each([
    [['--only', 'bot'], {}, 'MicrosoftAppId must be set to run the Teams bot (or, in development only, SENDGUARD_BOT_DEV_NO_AUTH=true)'],
    [['--only', 'api,bot'], { NODE_ENV: 'production', SENDGUARD_BOT_DEV_NO_AUTH: 'true' }, 'SENDGUARD_BOT_DEV_NO_AUTH must be false when NODE_ENV=production'],
    [['--only', 'bot'], { SENDGUARD_BOT_DEV_NO_AUTH: 'true' }, 'SENDGUARD_API_URL must be set when the bot runs without the api role in the same process'],
  ])('`sendguard serve %j` that cannot start the bot exits with code 2 and one line naming the variable', async (args, env, message) => {
    const dataDir = path.join(tmpdir(), `sendguard-never-created-${randomUUID()}`);
    const result = await runSendguard(['serve', ...args], { MicrosoftAppId: '', MicrosoftAppPassword: '', SENDGUARD_BOT_DEV_NO_AUTH: 'false', SENDGUARD_API_URL: '', SENDGUARD_DATA_DIR: dataDir, ...env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([`sendguard: invalid configuration: ${message}`]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('split out from the API without the API\'s signing key, refuses to start instead of signing with a key of its own', async () => {
    const keyFile = path.join(tmpdir(), `sendguard-missing-key-${randomUUID()}.json`);
    const err = await startupError({ SENDGUARD_BOT_DEV_NO_AUTH: 'true', SENDGUARD_API_URL: 'http://127.0.0.1:4000/graphql', SENDGUARD_SIGNING_KEY_FILE: keyFile }, ['bot']);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `invalid configuration: SENDGUARD_SIGNING_KEY_FILE names ${keyFile}, which does not exist: a bot split out from the API signs its requests with the API's key, so point it at the API's key file`,
    );
    expect(existsSync(keyFile)).toBe(false);
  });

  it('logs a warning when it runs without Bot Framework authentication', async () => {
    const { logger, lines } = capturingLogger();
    const running = await startSendguard(testConfig({ SENDGUARD_BOT_DEV_NO_AUTH: 'true' }), { roles: ['api', 'bot'], database, logger });
    await running.stop();
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toContainEqual(expect.stringContaining('WITHOUT Bot Framework authentication'));
  });

  it('with every role by default and no app id, serves everything else and says why /api/messages is off', async () => {
    const { logger, lines } = capturingLogger('info');
    const running = await startSendguard(testConfig(), { database, logger });
    try {
      const res = await fetch(`${running.urls.http}/api/messages`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('MicrosoftAppId must be set to run the Teams bot');
      expect((await fetch(`${running.urls.http}/graphql`, { method: 'POST' })).status).toBe(401);
      expect(lines.map((l) => l.msg)).toContainEqual(expect.stringContaining('Teams bot not started'));
      // The start line names what runs: neither the bot nor, without a smarthost, the relay.
      expect(lines.find((l) => l.msg === 'sendguard started')).toMatchObject({ roles: ['api', 'policy'] });
    } finally {
      await running.stop();
    }
  });

  it('with credentials, rejects an activity that carries no Bot Framework token', async () => {
    const env = { MicrosoftAppId: randomUUID(), MicrosoftAppPassword: 'secret', MicrosoftAppTenantId: randomUUID() };
    const running = await startSendguard(testConfig(env), { roles: ['api', 'bot'], database, logger: createLogger('silent') });
    try {
      const tenant = await createTestTenant(database);
      const activity = { type: 'message', text: 'restricted', channelId: 'msteams', serviceUrl: connector.url, from: { id: '29:x', aadObjectId: randomUUID() }, conversation: { id: 'a:1' }, channelData: { tenant: { id: tenant.id } } };
      const res = await fetch(`${running.urls.http}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
      expect(res.status).toBe(401);
      expect(connector.calls).toEqual([]);
    } finally {
      await running.stop();
    }
  });

  it('split out from the API, reads through SENDGUARD_API_URL with the same documents', async () => {
    const api = await startSendguard(testConfig(), { roles: ['api'], database, logger: createLogger('silent') });
    const botEnv = { SENDGUARD_BOT_DEV_NO_AUTH: 'true', SENDGUARD_API_URL: `${api.urls.http}/graphql`, SENDGUARD_SIGNING_KEY_FILE: api.services.config.auth.signingKeyFile };
    const bot = await startSendguard(testConfig(botEnv), { roles: ['bot'], database, logger: createLogger('silent') });
    try {
      const tenant = await createTestTenant(database);
      const objectId = randomUUID();
      await grantRole(bot.services, tenant.id, objectId, 'Global Reader');
      await bot.services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('alice'), reasonCode: 'ManualBlock', temporary: false, actor: policyActor });
      const message = await postTeamsMessage(bot.urls.http!, { tenantId: tenant.id, objectId, name: 'Adele Vance', text: 'restricted', serviceUrl: connector.url });
      const reply = connector.accepted('reply').find((c) => c.activity.replyToId === message.id);
      expect(cardText(cardOf(reply?.activity ?? {}))).toContain(tenant.address('alice'));
      expect(cardText(cardOf(reply?.activity ?? {}))).toContain('You have read-only access');
    } finally {
      await bot.stop();
      await api.stop();
    }
  });
});
