// postinstall: fixes the connection queue of postgres.js 3.4.9 (node_modules/postgres, all three builds).
//
// Its Queue never drops the entries it has shifted until the queue runs empty, and `remove`
// searches the whole array, shifted entries included. A pool with more connections open than
// queries in flight never runs its idle queue empty (each query takes the first idle connection
// and hands it back at the end), so every query made the idle queue one entry longer and every
// query searched it: an API process under steady load reached 33,000 entries within seconds,
// and a policy process grew without end, by one entry per database call. The fixed queue
// searches only its live part and drops the shifted entries once they are half of it.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ORIGINAL = `    remove: (x) => {
      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index++]

      if (index === xs.length) {
        index = 0
        xs = []
      } else {
        xs[index - 1] = undefined
      }

      return out
    }`;

const FIXED = `    remove: (x) => {
      // sendguard: only the live part is searched
      const at = xs.indexOf(x, index)
      return at === -1
        ? null
        : (xs.splice(at, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index++]

      if (index === xs.length) {
        index = 0
        xs = []
      } else if (index >= 32 && index * 2 >= xs.length) {
        xs = xs.slice(index)
        index = 0
      } else {
        xs[index - 1] = undefined
      }

      return out
    }`;

// require.resolve('postgres') is <package>/cjs/src/index.js (its exports hide package.json).
const root = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
for (const build of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, build, 'queue.js');
  const text = readFileSync(file, 'utf8');
  if (text.includes(FIXED)) continue;
  if (!text.includes(ORIGINAL)) throw new Error(`${file} is not the queue this fix was written for; check the postgres.js version`);
  writeFileSync(file, text.replace(ORIGINAL, FIXED));
}
