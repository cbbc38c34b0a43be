// `node scripts/fetch-node.js [version …]`: installs Node.js releases (by default those in
// scripts/test-nodes.json) under .cache/node/<version>/, so test/foundation/node-versions.test.ts
// can start Sendguard on each. They come from the npm registry as the packages
// node-<platform>-<arch> (the official binaries, as the `node` package installs them), so this
// needs no other download site. A release already installed is kept.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.cache', 'node');
const listed = JSON.parse(readFileSync(path.join(root, 'scripts', 'test-nodes.json'), 'utf8')).versions;
const versions = process.argv.length > 2 ? process.argv.slice(2) : listed;

for (const version of versions) {
  const dir = path.join(cache, version);
  const node = path.join(dir, 'bin', 'node');
  if (existsSync(node)) {
    console.log(`node ${version}: ${node} (already installed)`);
    continue;
  }
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, `.fetch-${version}-`));
  try {
    const pkg = `node-${process.platform}-${process.arch}@${version}`;
    const [tarball] = JSON.parse(execFileSync('npm', ['pack', pkg, '--json', '--pack-destination', work], { encoding: 'utf8' }));
    execFileSync('tar', ['-xzf', path.join(work, tarball.filename), '-C', work]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(path.join(work, 'package'), dir);
    const reported = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    if (reported !== `v${version}`) throw new Error(`${pkg} installed a node that reports ${reported}`);
    console.log(`node ${version}: ${node}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
