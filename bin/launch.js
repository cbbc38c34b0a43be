import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The folders `npm run build` compiles and copies to dist/: tsconfig.build.json's `include`. */
export const SOURCE_DIRS = JSON.parse(readFileSync(new URL('../tsconfig.build.json', import.meta.url), 'utf8')).include;
/** Written last by the build, so a build that stopped half-way is never run. */
export const BUILD_STAMP = path.join('dist', '.build-complete');

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Whether dist/ holds a complete build of the current sources: every source file is older than
 * the build's stamp. Edited sources (or no build at all) run through tsx instead.
 */
export function compiledIsCurrent(root) {
  let built;
  try {
    built = statSync(path.join(root, BUILD_STAMP)).mtimeMs;
  } catch {
    return false;
  }
  return SOURCE_DIRS.every((dir) => newestIn(path.join(root, dir)) <= built);
}
