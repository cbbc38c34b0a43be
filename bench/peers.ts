import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  debianVersion, freePort, removeDir, run, scratchDir, sleep, stopPid, waitForPort,
} from './proc.ts';
import type { PolicyTarget, RunningTarget } from './target.ts';

const POSTFWD1 = '/usr/sbin/postfwd1';
const POLICYD_RATE_LIMIT = '/usr/bin/policyd-rate-limit';
const PEER_PACKAGES: ReadonlyArray<readonly [pkg: string, binary: string]> = [
  ['postfwd', POSTFWD1],
  ['policyd-rate-limit', POLICYD_RATE_LIMIT],
];
const START_TIMEOUT_MS = 15_000;

let installing: Promise<void> | undefined;

/** Installs the Debian peer packages that are missing; needs root only when something is missing. */
export function ensurePeersInstalled(): Promise<void> {
  installing ??= installMissing();
  return installing;
}

async function installMissing(): Promise<void> {
  const missing = PEER_PACKAGES.filter(([, binary]) => !existsSync(binary)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`bench: missing ${missing.join(', ')}; run as root or: apt-get install ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], env);
  await run('apt-get', ['install', '-y', '-qq', ...missing], env);
}

export function postfwdRules(limit: number): string {
  return [
    'id=RCPT_PER_SENDER_HOUR ; protocol_state==RCPT',
    `\taction=rate(sender/${limit}/3600/550 5.7.1 rate limit reached)`,
    'id=DEFAULT ; action=dunno',
    '',
  ].join('\n');
}

async function readPid(pidfile: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
    await sleep(50);
  }
  throw new Error(`no pid in ${pidfile}`);
}

/** postfwd1 (single process, Net::Server::Multiplex), daemonised, rate counters in memory. */
export async function startPostfwd1(limit: number): Promise<RunningTarget> {
  await ensurePeersInstalled();
  const dir = await scratchDir('postfwd1');
  const port = await freePort();
  const conf = join(dir, 'postfwd.cf');
  const pidfile = join(dir, 'postfwd.pid');
  await writeFile(conf, postfwdRules(limit));
  try {
    await run(POSTFWD1, [
      '-d', '-P', '--norulelog', '-f', conf, '-i', '127.0.0.1', '-p', String(port),
      '-u', 'nobody', '-g', 'nogroup', '--pidfile', pidfile,
    ]);
    await waitForPort(port, START_TIMEOUT_MS);
  } catch (e) {
    await stopFromPidfile(pidfile);
    await removeDir(dir);
    throw e;
  }
  const pid = await readPid(pidfile);
  return { port, pids: [pid], stop: async () => { await stopPid(pid, 'SIGTERM'); await removeDir(dir); } };
}

async function stopFromPidfile(pidfile: string): Promise<void> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) await stopPid(pid, 'SIGTERM');
}

export function policydRateLimitConfig(dir: string, port: number, limit: number): string {
  return `debug: False
user: "policyd-rate-limit"
group: "policyd-rate-limit"
pidfile: "${dir}/prl/policyd-rate-limit.pid"
sqlite_config:
    database: "${dir}/prl/db.sqlite3"
backend: 0
SOCKET: ["127.0.0.1", ${port}]
limits:
    - [${limit}, 3600]
limits_by_id: {}
limit_by_sasl: True
limit_by_sender: True
limit_by_ip: False
limited_networks: []
success_action: "dunno"
fail_action: "550 5.7.1 rate limit reached"
db_error_action: "dunno"
report: False
delay_to_close: 300
`;
}

/**
 * policyd-rate-limit with its sqlite backend, in the foreground as our child. It creates
 * `prl/` itself and hands it to its own user before dropping privileges.
 */
export async function startPolicydRateLimit(limit: number): Promise<RunningTarget> {
  await ensurePeersInstalled();
  const dir = await scratchDir('policyd-rate-limit');
  const port = await freePort();
  const conf = join(dir, 'prl.yaml');
  await writeFile(conf, policydRateLimitConfig(dir, port, limit));
  const log = openSync(join(dir, 'prl.log'), 'a');
  const child = spawn(POLICYD_RATE_LIMIT, ['-f', conf], { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const pid = child.pid;
  // SIGUSR1 is its clean-exit signal: it closes the socket and removes its pidfile.
  const stop = async (): Promise<void> => {
    if (pid !== undefined && !exited) await stopPid(pid, 'SIGUSR1');
    await removeDir(dir);
  };
  try {
    await waitForPort(port, START_TIMEOUT_MS, () => !exited);
  } catch (e) {
    const output = await readFile(join(dir, 'prl.log'), 'utf8').catch(() => '');
    await stop();
    throw new Error(`policyd-rate-limit: ${(e as Error).message}\n${output}`);
  }
  return { port, pids: pid === undefined ? [] : [pid], stop };
}

export const postfwd1Target: PolicyTarget = {
  name: 'postfwd1',
  describe: async () => `postfwd1 ${await debianVersion('postfwd')} (Debian), one process, rate() counters in memory`,
  start: startPostfwd1,
};

export const policydRateLimitTarget: PolicyTarget = {
  name: 'policyd-rate-limit',
  describe: async () => `policyd-rate-limit ${await debianVersion('policyd-rate-limit')} (Debian), one process, sqlite`,
  start: startPolicydRateLimit,
};

export const peerTargets: readonly PolicyTarget[] = [postfwd1Target, policydRateLimitTarget];
