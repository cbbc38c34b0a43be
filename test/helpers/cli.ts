import { spawn, spawnSync } from 'node:child_process';
import { repoRoot, sendguardBin, type RunResult } from './process.ts';

/** The environment an admin verb runs with: only the client settings, nothing that would reach the database. */
export function clientEnv(url: string, token: string | undefined): Record<string, string | undefined> {
  return { SENDGUARD_URL: url, SENDGUARD_TOKEN: token, DATABASE_URL: undefined, SENDGUARD_DATA_DIR: undefined };
}

/** Parses the JSON a verb printed, failing the test with its stderr when it is not JSON. */
export function jsonOf<T = unknown>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${result.code}); stdout: ${result.stdout}; stderr: ${result.stderr}`);
  }
}

export const hasScript = spawnSync('script', ['--version']).status === 0;
/** For `it.skipIf(!hasScript)`. */
export const needsScript = 'needs util-linux `script` to run the CLI on a pseudo-terminal';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `sendguard <args>` on a pseudo-terminal (util-linux `script`), typing `input`; stdout and stderr arrive merged. */
/**
 * Runs a verb on a pseudo-terminal. `input` is typed at once, or, as a function, is asked after
 * each piece of output what to type (undefined: nothing yet) — to act while a prompt waits.
 */
export function runVerbOnTerminal(
  args: string[], env: Record<string, string | undefined>, input: string | ((output: string) => Promise<string | undefined>),
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, sendguardBin, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, ...env, COLUMNS: '200' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = typeof input === 'string';
    // One call to `input` at a time: output that arrives while it runs is offered to it once it returns.
    let asking = false;
    let seen = -1;
    const answer = (): void => {
      if (typed || asking || typeof input === 'string' || seen === output.length) return;
      asking = true;
      seen = output.length;
      void input(output).then((text) => {
        asking = false;
        if (text === undefined) return answer();
        typed = true;
        child.stdin.end(text);
      }, reject);
    };
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      answer();
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replace(/\r\n/g, '\n') }));
    if (typeof input === 'string') child.stdin.end(input);
  });
}
