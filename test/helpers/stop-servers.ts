import { afterAll } from 'vitest';
import { runningServers } from './process.ts';

// A test that fails before it stops the server it started leaves no server behind: one left
// running (retrying a database that is gone) slows every test after it.
afterAll(() => {
  for (const child of runningServers) child.kill('SIGKILL');
});
