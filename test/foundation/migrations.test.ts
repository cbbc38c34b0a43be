import { execFile } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/process.ts';
import { testDir } from '../helpers/config.ts';

it('the committed migrations match the drizzle schema (drizzle-kit generate would add nothing)', async () => {
  const out = testDir('migrations');
  cpSync(path.join(repoRoot, 'db/migrations'), out, { recursive: true });
  const before = readdirSync(out).sort();
  const { stdout, stderr } = await promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/drizzle-kit'), ['generate'], {
    cwd: repoRoot,
    // drizzle-kit prefixes `./` to the out folder, so it must be relative to the repo.
    env: { ...process.env, DRIZZLE_OUT: path.relative(repoRoot, out) },
  });
  expect(readdirSync(out).sort()).toEqual(before);
  expect(stdout + stderr).toContain('No schema changes');
});
