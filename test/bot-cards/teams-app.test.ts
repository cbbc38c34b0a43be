import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { botCommands } from '../../bot/cards/bot-commands.ts';
import { manifestValues, packageTeamsApp, renderManifest } from '../../bot/teams-app/package-app.ts';
import { colorIconPixels, outlineIconPixels } from '../../bot/teams-app/shield-icon.ts';
import { decodePng } from '../helpers/cards/png-reader.ts';
import { readZip } from '../helpers/cards/zip-reader.ts';

const appDir = new URL('../../bot/teams-app/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, appDir));
const template = read('manifest.json').toString('utf8');
const appId = '3f0c9d1e-7b2a-4c5d-9e8f-1a2b3c4d5e6f';
const workDir = mkdtempSync(join(tmpdir(), 'sendguard-teams-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const ajv = new Ajv04.default({ strict: false, allErrors: true });
addFormats.default(ajv);
const manifestSchema = JSON.parse(readFileSync(new URL('../fixtures/schemas/teams-manifest-1.29.schema.json', import.meta.url), 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
const validateManifest = ajv.compile(manifestSchema);
const schemaErrors = (manifest: unknown) => (validateManifest(manifest) ? [] : (validateManifest.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));

interface Manifest {
  id: string;
  manifestVersion: string;
  validDomains: string[];
  bots: { botId: string; scopes: string[]; commandLists: { scopes: string[]; commands: { title: string; description: string }[] }[] }[];
}

describe('app manifest', () => {
  const manifest = renderManifest(template, manifestValues({ appId, outFile: 'unused', botDomain: 'sendguard.contoso.com' })) as unknown as Manifest;

  it('validates against the Teams manifest schema 1.29 once the app id is filled in', () => {
    expect(manifest.manifestVersion).toBe('1.29');
    expect(schemaErrors(manifest)).toEqual([]);
  });

  it('is a template: as committed, its placeholders are not valid ids', () => {
    expect(template).toContain('"id": "${{MICROSOFT_APP_ID}}"');
    expect(schemaErrors(JSON.parse(template))).toEqual(expect.arrayContaining(['/id must match pattern "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"']));
  });

  it('declares the bot for personal chats, teams and group chats with the same app id', () => {
    expect(manifest.id).toBe(appId);
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0]).toMatchObject({ botId: appId, scopes: ['personal', 'team', 'groupChat'] });
    expect(JSON.stringify(manifest)).not.toContain('${{');
  });

  it('lists every command in each scope, within Teams’ length limits', () => {
    const lists = manifest.bots[0]!.commandLists;
    expect(lists.map((l) => l.scopes)).toEqual([['personal'], ['team'], ['groupChat']]);
    for (const list of lists) {
      expect(list.commands.map((c) => c.title)).toEqual(['help', 'restricted', 'show', 'unblock', 'policies', 'subscribe', 'unsubscribe']);
      list.commands.forEach((c, i) => {
        const command = botCommands[i]!;
        expect(c.description).toBe(command.usage === command.name ? command.description : `${command.usage}: ${command.description}`);
        expect(c.title.length).toBeLessThanOrEqual(32);
        expect(c.description.length).toBeLessThanOrEqual(128);
      });
    }
  });

  it('lists the bot’s domain in validDomains only when one is given', () => {
    expect(manifest.validDomains).toEqual(['sendguard.contoso.com', 'token.botframework.com']);
    const withoutDomain = renderManifest(template, manifestValues({ appId, outFile: 'unused' })) as unknown as Manifest;
    expect(withoutDomain.validDomains).toEqual(['token.botframework.com']);
    expect(schemaErrors(withoutDomain)).toEqual([]);
  });

  it('refuses an app id that is not a GUID, a bad domain and an unfilled placeholder', () => {
    expect(() => manifestValues({ appId: 'sendguard', outFile: 'x' })).toThrow(/Microsoft App ID \(a GUID\)/);
    expect(() => manifestValues({ appId, outFile: 'x', botDomain: 'https://sendguard.contoso.com/' })).toThrow(/host name/);
    expect(() => renderManifest('{"id": "${{NOPE}}"}', {})).toThrow('manifest placeholder ${{NOPE}} has no value');
  });
});

describe('app icons', () => {
  it('has a 192×192 full-colour icon', () => {
    const color = decodePng(read('color.png'));
    expect([color.width, color.height, color.bitDepth, color.colourType]).toEqual([192, 192, 8, 6]);
    const translucent = color.pixels.filter((v, i) => i % 4 === 3 && v !== 255).length;
    expect(translucent).toBe(0);
  });

  it('has a 32×32 outline icon that is white on transparent', () => {
    const outline = decodePng(read('outline.png'));
    expect([outline.width, outline.height, outline.colourType]).toEqual([32, 32, 6]);
    const px = outline.pixels;
    let drawn = 0;
    let notWhite = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] === 0) continue;
      drawn++;
      if (px[i] !== 255 || px[i + 1] !== 255 || px[i + 2] !== 255) notWhite++;
    }
    expect(drawn).toBeGreaterThan(100);
    expect(notWhite).toBe(0);
    expect(px[3]).toBe(0);
    expect(px[px.length - 1]).toBe(0);
  });

  it('are the committed output of the icon generator', () => {
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
    expect(same(decodePng(read('color.png')).pixels, colorIconPixels(192)), 'run: node --import tsx bot/teams-app/generate-icons.ts').toBe(true);
    expect(same(decodePng(read('outline.png')).pixels, outlineIconPixels(32)), 'run: node --import tsx bot/teams-app/generate-icons.ts').toBe(true);
  });
});

describe('app package', () => {
  it('zips manifest.json, color.png and outline.png at the root', async () => {
    const outFile = join(workDir, 'nested', 'sendguard-teams.zip');
    const result = await packageTeamsApp({ appId, outFile, botDomain: 'sendguard.contoso.com' });
    const zip = readFileSync(outFile);
    expect(result.bytes).toBe(zip.length);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'color.png', 'outline.png']);
    const manifest = JSON.parse(entries[0]!.data.toString('utf8')) as unknown;
    expect(manifest).toEqual(result.manifest);
    expect(schemaErrors(manifest)).toEqual([]);
    expect(entries[1]!.data).toEqual(read('color.png'));
    expect(entries[2]!.data).toEqual(read('outline.png'));
  });

  it('gives the same bytes for the same inputs', async () => {
    const a = join(workDir, 'a.zip');
    const b = join(workDir, 'b.zip');
    await packageTeamsApp({ appId, outFile: a });
    await packageTeamsApp({ appId, outFile: b });
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });

  it.skipIf(spawnSync('unzip', ['-v']).status !== 0)('is a zip that Info-ZIP unzip tests clean', async () => {
    const outFile = join(workDir, 'checked.zip');
    await packageTeamsApp({ appId, outFile });
    const test = spawnSync('unzip', ['-t', outFile], { encoding: 'utf8' });
    expect(test.stdout).toContain('No errors detected');
    expect(spawnSync('unzip', ['-Z1', outFile], { encoding: 'utf8' }).stdout.trim().split('\n')).toEqual(['manifest.json', 'color.png', 'outline.png']);
  });
});
