import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_STAMP, compiledIsCurrent, SOURCE_DIRS } from '../../bin/launch.js';
import { loadConfig } from '../../config/load-config.ts';
import { testDir } from '../helpers/config.ts';
import { sendguardLauncher, startServerProcess } from '../helpers/process.ts';

/** A checkout with one source file per folder, each last changed `age` seconds ago. */
function checkout(age = 60): string {
  const root = testDir('launch');
  const then = new Date(Date.now() - age * 1000);
  for (const dir of SOURCE_DIRS) {
    mkdirSync(path.join(root, dir, 'nested'), { recursive: true });
    const file = path.join(root, dir, 'nested', 'module.ts');
    writeFileSync(file, 'export {};\n');
    utimesSync(file, then, then);
  }
  return root;
}

function stamp(root: string, at = new Date()): void {
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  writeFileSync(path.join(root, BUILD_STAMP), at.toISOString());
  utimesSync(path.join(root, BUILD_STAMP), at, at);
}

describe('which program bin/sendguard.js runs', () => {
  it('runs the sources while there is no complete build', () => {
    const root = checkout();
    expect(compiledIsCurrent(root)).toBe(false);
    mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(path.join(root, 'dist', 'cli', 'main.js'), '');
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it('runs the build once it is complete and newer than every source', () => {
    const root = checkout();
    stamp(root);
    expect(compiledIsCurrent(root)).toBe(true);
  });

  it('runs the sources again as soon as any source, however deep, changes after the build', () => {
    const root = checkout();
    stamp(root, new Date(Date.now() - 30_000));
    expect(compiledIsCurrent(root)).toBe(true);
    writeFileSync(path.join(root, 'domain', 'nested', 'module.ts'), 'export const changed = true;\n');
    expect(compiledIsCurrent(root)).toBe(false);
  });
});

/** The launcher linked from another folder, as npm links an installed package's command. */
function linkedLauncher(): string {
  const link = path.join(testDir('linked'), 'sendguard');
  symlinkSync(sendguardLauncher, link);
  return link;
}

/** What a running process was started with: its arguments and its environment, from /proc. */
function startedWith(pid: number): { argv: string[]; environ: string[] } {
  const read = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
  return { argv: read('cmdline'), environ: read('environ') };
}

const serveEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  SENDGUARD_DATA_DIR: dataDir, SENDGUARD_HTTP_PORT: '0', SENDGUARD_LOG_LEVEL: 'warn', SENDGUARD_TENANT_ID: 'contoso',
  SENDGUARD_TENANT_NAME: 'Contoso', SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com', DATABASE_URL: '', MALLOC_ARENA_MAX: undefined,
  MALLOC_MMAP_THRESHOLD_: undefined, NODE_OPTIONS: undefined, ...extra,
});

describe.skipIf(process.platform !== 'linux')('bin/sendguard, the command npm start and an installed package run', () => {
  it('starts the server with one V8 worker thread, one malloc arena and V8 favouring size on the embedded database, and serves', async () => {
    const server = await startServerProcess(['--only', 'api'], serveEnv(testDir('launched')), ['http'], linkedLauncher());
    try {
      const { argv, environ } = startedWith(server.child.pid!);
      expect(argv.slice(1)).toEqual(['--optimize-for-size', path.join(path.dirname(sendguardLauncher), 'sendguard.js'), 'serve', '--only', 'api']);
      expect(environ).toEqual(expect.arrayContaining([
        'NODE_OPTIONS=--v8-pool-size=1 --max-semi-space-size=4', 'MALLOC_ARENA_MAX=1', 'MALLOC_MMAP_THRESHOLD_=131072',
      ]));
      expect(await (await fetch(`${server.urls.http}/healthz`)).json()).toEqual({ status: 'ok' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('leaves the settings an operator gives as they are', async () => {
    const env = serveEnv(testDir('launched'), { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '262144', NODE_OPTIONS: '--v8-pool-size=2 --max-semi-space-size=16' });
    const server = await startServerProcess(['--only', 'api'], env, ['http'], linkedLauncher());
    try {
      const { environ } = startedWith(server.child.pid!);
      // Node reads NODE_OPTIONS in order, and a later setting of an option replaces an earlier one.
      expect(environ).toEqual(expect.arrayContaining([
        'NODE_OPTIONS=--v8-pool-size=1 --max-semi-space-size=4 --v8-pool-size=2 --max-semi-space-size=16', 'MALLOC_ARENA_MAX=4', 'MALLOC_MMAP_THRESHOLD_=262144',
      ]));
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

/**
 * What the launcher hands node, NODE_OPTIONS and the options before the program, read by a
 * stand-in `node` first on PATH (the environment is only what is given, and PATH, so no
 * DATABASE_URL of the test run leaks in), and whether the program, reading the same environment
 * and ./.env, opens the embedded database.
 */
function launchedWith(env: Record<string, string>, dotenv?: string): { nodeOptions: string; nodeArgs: string[]; embedded: boolean } {
  const bin = testDir('stand-in-node');
  writeFileSync(path.join(bin, 'node'), '#!/bin/sh\nprintf \'%s\\n\' "$NODE_OPTIONS" "$@"\n', { mode: 0o755 });
  const cwd = testDir('launcher-cwd');
  if (dotenv !== undefined) writeFileSync(path.join(cwd, '.env'), dotenv);
  const [nodeOptions = '', ...args] = execFileSync(sendguardLauncher, ['serve'], { cwd, env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env }, encoding: 'utf8' }).split('\n');
  const program = args.findIndex((a) => a.endsWith('/sendguard.js'));
  expect(args.slice(program + 1)).toEqual(['serve', '']);
  return { nodeOptions, nodeArgs: args.slice(0, program), embedded: loadConfig(env, cwd).databaseUrl === undefined };
}

const EMBEDDED = { nodeOptions: '--v8-pool-size=1 --max-semi-space-size=4', nodeArgs: ['--optimize-for-size'], embedded: true };
const ON_POSTGRES = { nodeOptions: '--v8-pool-size=1', nodeArgs: [], embedded: false };
const URL = 'postgres://db.internal/sendguard';

describe.skipIf(process.platform !== 'linux')('the memory settings bin/sendguard gives V8', () => {
  it('favour size on the embedded database, which runs in the process, and are left to V8 on PostgreSQL', () => {
    expect(launchedWith({})).toEqual(EMBEDDED);
    expect(launchedWith({ DATABASE_URL: URL })).toEqual(ON_POSTGRES);
  });

  it('follows the DATABASE_URL the program reads from ./.env, the last one, quoted or exported', () => {
    expect(launchedWith({}, `SENDGUARD_TENANT_ID=contoso\n  export DATABASE_URL="${URL}"\n`)).toEqual(ON_POSTGRES);
    expect(launchedWith({}, `DATABASE_URL=${URL}\nDATABASE_URL=\n`)).toEqual(EMBEDDED);
    expect(launchedWith({}, `# DATABASE_URL=${URL}\nSENDGUARD_TENANT_ID=contoso\n`)).toEqual(EMBEDDED);
  });

  it('lets the environment win over ./.env, an empty DATABASE_URL meaning the embedded database', () => {
    expect(launchedWith({ DATABASE_URL: '' }, `DATABASE_URL=${URL}\n`)).toEqual(EMBEDDED);
    expect(launchedWith({ DATABASE_URL: URL }, 'DATABASE_URL=\n')).toEqual(ON_POSTGRES);
  });

  it('puts an operator\'s NODE_OPTIONS last, so their own young generation wins', () => {
    expect(launchedWith({ NODE_OPTIONS: '--max-semi-space-size=16' }).nodeOptions).toBe(`${EMBEDDED.nodeOptions} --max-semi-space-size=16`);
  });
});
