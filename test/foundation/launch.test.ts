import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_STAMP, compiledIsCurrent, SOURCE_DIRS } from '../../bin/launch.js';
import { testDir } from '../helpers/config.ts';

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
