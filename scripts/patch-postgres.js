// postinstall: fixes two faults of postgres.js 3.4.9 (node_modules/postgres, all three builds).
//
// 1. Its Queue never drops the entries it has shifted until the queue runs empty, and `remove`
// searches the whole array, shifted entries included. A pool with more connections open than
// queries in flight never runs its idle queue empty (each query takes the first idle connection
// and hands it back at the end), so every query made the idle queue one entry longer and every
// query searched it: an API process under steady load reached 33,000 entries within seconds,
// and a policy process grew without end, by one entry per database call. The fixed queue
// searches only its live part and drops the shifted entries once they are half of it.
//
// 2. A connection closed under a query (the server restarted, or an administrator terminated the
// backend) rejects that query but keeps it as its current one. Its next attempt to connect then
// takes the server's refusal ("the database system is starting up", "not currently accepting
// connections") for an error of that old query, rejects nothing, and tries again for as long as
// the refusals last: the query it was opened for hangs. An event bus waiting on it stopped
// delivering events until the process was restarted. The fixed connection forgets the query,
// its results and any error it had when its socket closes.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// [the 3.4.9 text, its replacement], by file.
const EDITS = {
  // remove searches from the live part only; shift drops the entries handed out once they are
  // half of the array.
  'queue.js': [
    [
      `      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)`,
      `      const at = xs.indexOf(x, index) // sendguard: the live part only
      return at === -1 ? null : (xs.splice(at, 1), x)`,
    ],
    [
      `      } else {
        xs[index - 1] = undefined
      }`,
      `      } else if (index >= 32 && index * 2 >= xs.length) {
        xs = xs.slice(index) // sendguard: drop what was handed out
        index = 0
      } else {
        xs[index - 1] = undefined
      }`,
    ],
  ],
  // a closed connection has no query in flight, whether it reconnects for the query it was opened
  // for or goes back to the pool.
  'connection.js': [
    [
      `    if (initial)
      return reconnect()

    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
      `    if (initial)
      return (forget(), reconnect())

    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    forget()
`,
    ],
    [
      `  /* Handlers */
`,
      `  function forget() { // sendguard: a closed connection has no query in flight
    query = results = errorResponse = null
    result = new Result()
  }

  /* Handlers */
`,
    ],
  ],
};

// require.resolve('postgres') is <package>/cjs/src/index.js (its exports hide package.json).
const root = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
for (const build of ['src', 'cjs/src', 'cf/src']) {
  for (const [name, edits] of Object.entries(EDITS)) {
    const file = path.join(root, build, name);
    let text = readFileSync(file, 'utf8');
    if (text.includes('// sendguard:')) continue;
    for (const [original, fixed] of edits) {
      if (!text.includes(original)) throw new Error(`${file} is not the one this fix was written for; check the postgres.js version`);
      text = text.replace(original, fixed);
    }
    writeFileSync(file, text);
  }
}
