import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sendguardBin = path.join(repoRoot, 'bin/sendguard.js');
/** The launcher `npm start` and the installed `sendguard` command run (a shell script). */
export const sendguardLauncher = path.join(repoRoot, 'bin/sendguard');
/** The Node.js releases besides the test run's own that Sendguard is tested on (scripts/fetch-node.js installs them). */
export const otherNodeReleases: readonly string[] = (JSON.parse(readFileSync(path.join(repoRoot, 'scripts/test-nodes.json'), 'utf8')) as { versions: string[] }).versions;

/** Runs a JavaScript entry point with this test's node, anything else (the launcher) as itself. */
function spawnEntry(entry: string, args: string[], options: SpawnOptions): ChildProcess {
  return entry.endsWith('.js') ? spawn(process.execPath, [entry, ...args], options) : spawn(entry, args, options);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `sendguard` binary (or another entry point, such as a build's) to completion. */
export function runSendguard(args: string[], env: Record<string, string | undefined> = {}, input?: string, entry = sendguardBin): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnEntry(entry, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(input ?? '');
  });
}

export interface ServerProcess {
  child: ChildProcess;
  /** Listener URLs printed at start, by name (http, policy, smtp). */
  urls: Record<string, string>;
  stderr: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Servers started here and still running; test/helpers/stop-servers.ts kills them after each test file. */
export const runningServers = new Set<ChildProcess>();

/**
 * Starts `sendguard serve …` as a child process and waits until every listener is printed, at
 * most `startMs` (a new embedded database is created first, which a busy machine makes slow).
 */
export function startServerProcess(args: string[], env: Record<string, string | undefined>, expect: string[] = ['http'], entry = sendguardBin, startMs = 30_000): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnEntry(entry, ['serve', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    runningServers.add(child);
    child.once('exit', () => runningServers.delete(child));
    const urls: Record<string, string> = {};
    let stderr = '';
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${startMs} ms; its stdout ended: ${stdout.slice(-2000)}; its stderr ended: ${stderr.slice(-2000)}`));
    }, startMs);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const m of stdout.matchAll(/sendguard (\w+) listening on (\S+)/g)) urls[m[1] as string] = m[2] as string;
      if (expect.every((name) => urls[name])) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({
          child,
          urls,
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once('exit', (code, sig) => done(code ?? (sig ? `signal ${sig}` as unknown as number : null)));
              child.kill(signal);
            }),
        });
      }
    });
  });
}
