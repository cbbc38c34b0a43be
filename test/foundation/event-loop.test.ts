import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/process.ts';

const run = promisify(execFile);
const helper = pathToFileURL(path.join(repoRoot, 'cli/event-loop.ts')).href;

/**
 * Runs a module that waits on a timer which holds no handle (as start-up waits on V8's
 * background work), with or without holdEventLoop, and returns what it printed.
 */
async function waitWithoutHandles(hold: boolean): Promise<{ code: number; stdout: string }> {
  const script = [
    `import { holdEventLoop } from ${JSON.stringify(helper)};`,
    `const release = ${hold ? 'holdEventLoop()' : '() => {}'};`,
    `await new Promise((resolve) => setTimeout(resolve, 300).unref());`,
    `process.stdout.write('resumed\\n');`,
    `release();`,
  ].join('\n');
  return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
}

describe('holdEventLoop', () => {
  it('keeps the process running while it waits on work that holds no handle, and lets it exit once released', async () => {
    expect(await waitWithoutHandles(true)).toEqual({ code: 0, stdout: 'resumed\n' });
    // Without it, node finds its loop empty and ends the process before the wait is over: the
    // state in which node blocks on V8's background work (nodejs/node#54918). Exit code 13 is
    // node's "unsettled top-level await".
    expect(await waitWithoutHandles(false)).toEqual({ code: 13, stdout: '' });
  });
});
