import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZip } from '../helpers/cards/zip-reader.ts';
import { runSendguard } from '../helpers/process.ts';
import { testDir } from '../helpers/config.ts';

const workDir = testDir('teams-package');

describe('sendguard teams-package (npm run teams:package)', () => {
  it("writes the app zip for the deployment's MicrosoftAppId", async () => {
    const appId = randomUUID();
    const out = join(workDir, 'sendguard-teams.zip');
    const result = await runSendguard(['teams-package', '--out', out, '--bot-domain', 'sendguard.contoso.com'], { MicrosoftAppId: appId });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`for bot ${appId}`);
    const entries = readZip(readFileSync(out));
    expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'color.png', 'outline.png']);
    const manifest = JSON.parse(entries[0]?.data.toString('utf8') ?? '{}') as { id: string; bots: { botId: string }[]; validDomains: string[] };
    expect(manifest.id).toBe(appId);
    expect(manifest.bots.map((b) => b.botId)).toEqual([appId]);
    expect(manifest.validDomains).toEqual(['sendguard.contoso.com', 'token.botframework.com']);
  });

  it('says what is missing without an app id, and writes nothing', async () => {
    const out = join(workDir, 'none.zip');
    const result = await runSendguard(['teams-package', '--out', out], { MicrosoftAppId: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('sendguard: MicrosoftAppId must be set: the Teams app package names the bot by its Microsoft App ID\n');
    expect(() => readFileSync(out)).toThrow();
  });
});
