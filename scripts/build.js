// `npm run build [-- <out dir>]`: compiles the sources to dist/ (or the folder given) with the
// files they read at run time, then stamps the build complete (bin/launch.js runs dist/ only
// when its stamp is newer than every source). `--if-possible` (npm start) skips the build where
// TypeScript is not installed (npm install --omit=dev): the sources then run through tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_STAMP, SOURCE_DIRS } from '../bin/launch.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (...parts) => path.join(root, ...parts);
const args = process.argv.slice(2);
const ifPossible = args.includes('--if-possible');
const out = path.resolve(args.find((a) => !a.startsWith('--')) ?? at('dist'));
const stamp = path.join(out, path.basename(BUILD_STAMP));

rmSync(stamp, { force: true });
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch (err) {
  if (!ifPossible) throw err;
  console.error('sendguard: TypeScript is not installed, so nothing is built; the sources run through tsx');
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', at('tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'inherit' });
// Everything else in the source folders is read at run time (migrations, the Teams app's files).
for (const dir of SOURCE_DIRS) cpSync(at(dir), path.join(out, dir), { recursive: true, filter: (from) => !from.endsWith('.ts') });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
