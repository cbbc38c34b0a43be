import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, postgresVersion, spawnSendguard } from '../sendguard-cluster.ts';
import { freePort, removeDir, scratchDir, stopPid, waitForPort } from '../proc.ts';
import { BENCH_SENDER_DOMAIN, type PolicyTarget, type RunningTarget } from '../target.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;

/** `SENDGUARD_POLICY_COMMIT`: whether counts wait for the disk before the answer. */
type Commit = 'durable' | 'fast';

/**
 * The bench rule through Sendguard's own settings: the bootstrap tenant's default outbound spam
 * policy is provisioned with 0/0/0 and BlockUserForToday, and 0 means the service limit, so the
 * policy in force is "`limit` external recipients per sender per hour, then the sender is
 * blocked for the day" (550 5.1.8 for that recipient and every later one). Recipients are in
 * another domain, hence external. The internal and daily limits are left above anything a run
 * sends, and the message-rate and per-message limits out of the way, so only the rule decides.
 */
export function sendguardEnv(o: { dataDir: string; policyPort: number; databaseUrl?: string; limit: number; commit?: Commit }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SENDGUARD_DATA_DIR: o.dataDir,
    SENDGUARD_LOG_LEVEL: 'warn',
    SENDGUARD_HOST: '127.0.0.1',
    SENDGUARD_HTTP_PORT: '0',
    SENDGUARD_POLICY_PORT: String(o.policyPort),
    SENDGUARD_TENANT_ID: 'bench',
    SENDGUARD_TENANT_NAME: 'Bench',
    SENDGUARD_ACCEPTED_DOMAINS: BENCH_SENDER_DOMAIN,
    SENDGUARD_LIMIT_EXTERNAL_PER_HOUR: String(o.limit),
    SENDGUARD_LIMIT_INTERNAL_PER_HOUR: String(o.limit),
    SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: String(Math.max(10_000, 24 * o.limit)),
    SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: '1000000',
    SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE: '100000',
    SENDGUARD_POLICY_COMMIT: o.commit ?? 'durable',
  };
  if (o.databaseUrl !== undefined) env.DATABASE_URL = o.databaseUrl;
  return env;
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly log: string;
  exited: boolean;
}

async function startServer(dir: string, index: number, limit: number, databaseUrl: string | undefined, commit: Commit): Promise<Server> {
  const port = await freePort();
  const log = join(dir, `sendguard-${index}.log`);
  const fd = openSync(log, 'a');
  const env = sendguardEnv({ dataDir: join(dir, 'data'), policyPort: port, databaseUrl, limit, commit });
  const child = spawnSendguard(['serve', '--only', 'policy'], { cwd: dir, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const server: Server = { child, port, log, exited: false };
  child.once('exit', () => { server.exited = true; });
  return server;
}

/**
 * Starts one server and waits for its policy port. The port was free when chosen, but another
 * process may bind it before the server does (EADDRINUSE): then it starts again on another port.
 */
async function startListening(dir: string, index: number, limit: number, databaseUrl: string | undefined, commit: Commit): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const server = await startServer(dir, index, limit, databaseUrl, commit);
    try {
      await waitForPort(server.port, START_TIMEOUT_MS, () => !server.exited);
      return server;
    } catch (e) {
      const output = await readLogs([server]);
      const taken = server.exited && output.includes(`EADDRINUSE: address already in use 127.0.0.1:${server.port}`);
      if (!taken || attempt === 3) throw new Error(`${(e as Error).message}\n${output.slice(-4000)}`);
    }
  }
}

/** What the servers wrote, one log after another (empty for a log that cannot be read). */
async function readLogs(servers: readonly Server[]): Promise<string> {
  return (await Promise.all(servers.map((s) => readFile(s.log, 'utf8').catch(() => '')))).join('\n');
}

async function stopServers(servers: readonly Server[]): Promise<void> {
  await Promise.all(servers.map(async (s) => {
    if (s.child.pid !== undefined && !s.exited) await stopPid(s.child.pid, 'SIGTERM', 10_000);
  }));
}

/**
 * Starts `processes` Sendguard policy servers (`sendguard serve --only policy`, the real binary)
 * on one fresh database: embedded PGlite in a scratch data dir, or a scratch PostgreSQL database.
 * With several processes they start one after another, so migrations run once.
 */
async function startSendguard(limit: number, storage: 'pglite' | 'postgres', processes: number, commit: Commit = 'durable'): Promise<RunningTarget> {
  const dir = await scratchDir(`sendguard-${storage}`);
  const database = storage === 'postgres' ? await createScratchDatabase('sendguard_bench') : undefined;
  const servers: Server[] = [];
  const stop = async (): Promise<void> => {
    await stopServers(servers);
    await database?.drop();
    await removeDir(dir);
  };
  try {
    for (let i = 0; i < processes; i++) servers.push(await startListening(dir, i, limit, database?.url, commit));
  } catch (e) {
    const output = await readLogs(servers);
    await stop();
    throw new Error(`sendguard: ${(e as Error).message}\n${output.slice(-4000)}`);
  }
  const ports = servers.map((s) => s.port);
  const pids = servers.flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid]));
  const logTail = async () => (await readLogs(servers)).slice(-3000);
  return { port: ports[0] ?? 0, ports, pids, logTail, stop };
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return `Sendguard ${pkg.version} (compiled, Node.js ${process.version})`;
}

/** The server's version for a description, or just its name when it cannot be asked. */
const postgresVersionOrName = (): Promise<string> => postgresVersion().catch(() => 'PostgreSQL');

const RULE = 'default outbound spam policy: external recipients per hour = limit, BlockUserForToday';

export const sendguardTargets: readonly PolicyTarget[] = [
  {
    name: 'sendguard-pglite',
    describe: async () => `${await version()}, one policy-server process, embedded PGlite; ${RULE}`,
    start: (limit) => startSendguard(limit, 'pglite', 1),
  },
  {
    name: 'sendguard-pg',
    describe: async () => `${await version()}, one policy-server process, ${await postgresVersionOrName()} on 127.0.0.1; ${RULE}`,
    start: (limit) => startSendguard(limit, 'postgres', 1),
  },
  {
    name: 'sendguard-pg-2proc',
    describe: async () =>
      `${await version()}, two policy-server processes on one ${await postgresVersionOrName()} database, ` +
      `load connections alternating between them (issue 8's fourth scenario: exact counts across processes); ${RULE}`,
    start: (limit) => startSendguard(limit, 'postgres', 2),
  },
  {
    name: 'sendguard-pg-fast',
    describe: async () => `${await version()}, one policy-server process, ${await postgresVersionOrName()} on 127.0.0.1, SENDGUARD_POLICY_COMMIT=fast; ${RULE}`,
    start: (limit) => startSendguard(limit, 'postgres', 1, 'fast'),
  },
  {
    name: 'sendguard-pg-2proc-fast',
    describe: async () => `${await version()}, two policy-server processes on one ${await postgresVersionOrName()} database, SENDGUARD_POLICY_COMMIT=fast; ${RULE}`,
    start: (limit) => startSendguard(limit, 'postgres', 2, 'fast'),
  },
];
