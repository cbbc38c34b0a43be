import { type ChildProcess, execFile, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { mintLocalToken } from '../api/auth/local-token.ts';
import { loadOrCreateSigningKey } from '../api/auth/signing-key.ts';
import { compiledIsCurrent } from '../bin/launch.js';
import { removeDir, scratchDir, stopPid } from './proc.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LAUNCHER = join(ROOT, 'bin', 'sendguard');

/**
 * Starts `sendguard <args>` as `npm start` and the installed command do: through the launcher
 * (bin/sendguard), with its node settings, on the node running the bench.
 */
export function spawnSendguard(args: readonly string[], options: SpawnOptions & { env: NodeJS.ProcessEnv }): ChildProcess {
  // A source edited since the build would make the launcher run the sources through tsx, about
  // 50 MB more and slower: such a run measures something else than the suite's other runs.
  if (!compiledIsCurrent(ROOT)) {
    throw new Error('the sources changed after the bench built Sendguard, so bin/sendguard would run them through tsx: run the bench again, and leave the checkout alone while it runs');
  }
  const env = { ...options.env, PATH: [dirname(process.execPath), options.env.PATH ?? ''].join(delimiter) };
  return spawn(LAUNCHER, args, { ...options, env });
}

/**
 * Builds Sendguard (`npm run build`), so that every process the bench starts through bin/sendguard
 * runs what `npm start` runs: the compiled program, not the sources through tsx.
 */
export async function buildSendguard(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'build.js')], { cwd: ROOT });
  if (!compiledIsCurrent(ROOT)) throw new Error('the build did not complete: bin/sendguard.js would run the sources');
}

const START_TIMEOUT_MS = 60_000;

/** The PostgreSQL server the scratch databases are created on (one per run, dropped after it). */
export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(f: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    return await f(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export async function postgresVersion(): Promise<string> {
  const [row] = await admin((sql) => sql<{ v: string }[]>`select current_setting('server_version') as v`);
  return `PostgreSQL ${row?.v ?? '?'}`;
}

export interface SendguardProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Listener URLs the process printed at start (`http`, `policy`, `smtp`). */
  readonly urls: Readonly<Record<string, string>>;
  readonly log: string;
  stop(): Promise<void>;
}

/**
 * Starts the real binary, `sendguard serve --only <roles>`, with `env` on top of a minimal
 * environment, and resolves once every listener of those roles is printed.
 */
export function startSendguardProcess(o: { dir: string; name: string; roles: readonly string[]; env: Record<string, string> }): Promise<SendguardProcess> {
  const log = join(o.dir, `${o.name}.log`);
  const out = createWriteStream(log);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...o.env };
  const child = spawnSendguard(['serve', '--only', o.roles.join(',')], { cwd: o.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.pipe(out);
  const expected = ['http', ...o.roles.filter((r) => r === 'policy' || r === 'smtp')];
  return new Promise((resolve, reject) => {
    const urls: Record<string, string> = {};
    let stdout = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new Error(`${o.name}: ${why} (log: ${log})`));
    };
    const timer = setTimeout(() => fail(`no listeners within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('exit', (code) => fail(`exited with ${code} during start-up`));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      out.write(chunk);
      for (const m of stdout.matchAll(/sendguard (\w+) listening on (\S+)/g)) urls[m[1] as string] = m[2] as string;
      if (!expected.every((n) => urls[n] !== undefined)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const pid = child.pid ?? 0;
      resolve({
        child, pid, urls, log,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) await stopPid(pid, 'SIGTERM', 10_000);
        },
      });
    });
  });
}

/** The environment every bench process shares: one database, one data dir (so one signing key). */
export function baseEnv(o: { dataDir: string; databaseUrl: string; tenantId: string; acceptedDomain: string }): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: o.databaseUrl,
    SENDGUARD_DATA_DIR: o.dataDir,
    SENDGUARD_LOG_LEVEL: 'warn',
    SENDGUARD_HOST: '127.0.0.1',
    SENDGUARD_HTTP_PORT: '0',
    SENDGUARD_POLICY_PORT: '0',
    SENDGUARD_TENANT_ID: o.tenantId,
    SENDGUARD_TENANT_NAME: `Bench ${o.tenantId}`,
    SENDGUARD_ACCEPTED_DOMAINS: o.acceptedDomain,
  };
}

/** A Security Administrator token signed with the data dir's key, as `sendguard token` would print. */
export async function adminToken(dataDir: string, tenantId: string): Promise<string> {
  const key = await loadOrCreateSigningKey(join(dataDir, 'signing-key.json'));
  return mintLocalToken(
    key,
    { issuer: 'sendguard', audience: 'sendguard' },
    { tenantId, principalId: `bench-admin@${tenantId}`, name: 'Bench Admin', roles: ['Security Administrator'] },
    { expiresInSeconds: 4 * 3600 },
  );
}

/** Cleanups of the scratch deployments still running, so an interrupted bench leaves nothing behind. */
const liveDeployments = new Set<() => Promise<void>>();

/**
 * On SIGINT or SIGTERM: runs `stopAlso` (e.g. the policy target being measured) and cleans up every
 * scratch deployment still running, then exits with 130.
 */
export function cleanUpOnSignals(stopAlso: () => Promise<void> = () => Promise.resolve()): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping what the bench started`);
      void Promise.allSettled([stopAlso(), ...[...liveDeployments].map((cleanup) => cleanup())]).finally(() => process.exit(130));
    });
  }
}

/** A scratch directory and database; `cleanup` stops what was started and removes both. */
export async function scratchDeployment(prefix: string): Promise<{ dir: string; dataDir: string; database: ScratchDatabase; track(p: SendguardProcess): SendguardProcess; cleanup(): Promise<void> }> {
  const dir = await scratchDir(prefix);
  const database = await createScratchDatabase(`sendguard_${prefix.replace(/\W/g, '_')}`);
  const processes: SendguardProcess[] = [];
  const cleanup = async (): Promise<void> => {
    liveDeployments.delete(cleanup);
    await Promise.all(processes.map((p) => p.stop().catch(() => undefined)));
    await database.drop().catch((e: unknown) => console.error(`drop ${database.name}: ${(e as Error).message}`));
    await removeDir(dir);
  };
  liveDeployments.add(cleanup);
  return {
    dir,
    dataDir: join(dir, 'data'),
    database,
    track(p) {
      processes.push(p);
      return p;
    },
    cleanup,
  };
}

/**
 * Connections kept open between requests, as a console's browser or an automation client keeps
 * them. Node's `fetch` cost the load generator 0.45–0.88 ms of CPU per request here, as much as
 * the API process spent answering it, on the same two cores; this client costs 0.11–0.2 ms.
 */
const keepAlive = new http.Agent({ keepAlive: true });

/** POSTs one GraphQL document; throws on a transport error or a top-level GraphQL error. */
export function graphql<T>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: keepAlive,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: T; errors?: { message: string }[] };
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299 || answer.errors || !answer.data) throw new Error(`GraphQL ${status}: ${JSON.stringify(answer.errors ?? answer)}`);
          resolve(answer.data);
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
