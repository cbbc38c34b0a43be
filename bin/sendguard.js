#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ when it is a build of the current sources (`npm start`
// builds first), else the TypeScript sources through tsx, so no build step is ever required.
// Compiled, a policy process holds about 50 MB less: tsx keeps a loader thread, its transforms
// and every module's source map.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from './launch.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (compiledIsCurrent(root)) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
