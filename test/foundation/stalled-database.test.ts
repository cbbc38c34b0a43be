import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { testDir } from '../helpers/config.ts';
import { databaseBehindProxy, needsPostgres, onPostgres } from '../helpers/db.ts';
import { repoRoot, runningServers, runSendguard, sendguardBin } from '../helpers/process.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor, waitUntil } from '../helpers/wait.ts';

interface Served {
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  /** The log's lines so far (stderr, JSON), in order. */
  logged: () => Record<string, unknown>[];
  /** Their messages. */
  messages: () => string[];
  /** Waits for the HTTP listener; its base URL. */
  http(): Promise<string>;
}

/** `sendguard serve --only api` on the database at `databaseUrl`. */
async function serveThrough(databaseUrl: string, env: Record<string, string> = {}): Promise<Served> {
  const dataDir = testDir('stalled');
  const child = spawn(process.execPath, [sendguardBin, 'serve', '--only', 'api'], {
    cwd: repoRoot,
    env: { ...process.env, SENDGUARD_DATA_DIR: dataDir, SENDGUARD_HTTP_PORT: '0', SENDGUARD_LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningServers.add(child);
  let output = '';
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => ((output += d.toString()), (log += d.toString())));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => (runningServers.delete(child), resolve(code))));
  // Whole lines of the log (stderr) only: a line still being written is left for the next look.
  const logged = () => log.split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const listener = () => /sendguard http listening on (\S+)/.exec(output)?.[1];
  const http = () => waitFor(listener, (url) => url !== undefined, 'the listener') as Promise<string>;
  return { dataDir, child, output: () => output, exit, logged, messages: () => logged().map((l) => l.msg as string), http };
}

const exitWithin = (served: Served, ms: number) =>
  Promise.race([served.exit, new Promise<string>((resolve) => setTimeout(() => resolve(`still running after ${ms} ms`), ms))]);

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** A database only the server reaches, through `proxy`; its URL. */
async function stallableDatabase(): Promise<string> {
  const behind = await databaseBehindProxy();
  await behind.direct.close();
  proxy = behind.proxy;
  return behind.url;
}

describe.skipIf(!onPostgres)(`sendguard serve with a database that stops answering (${needsPostgres})`, () => {
  it('a SIGTERM during start-up is honoured once start-up completes: it starts, then stops cleanly', async () => {
    const url = await stallableDatabase();
    // The database does not answer yet: start-up waits for it.
    proxy!.stall();
    const served = await serveThrough(url);
    // Logged once the signal handlers are in.
    await waitUntil(() => served.messages().includes('sendguard starting'), 'start-up');
    served.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(served.child.exitCode).toBeNull();
    proxy!.resume();
    expect(await exitWithin(served, 30_000)).toBe(0);
    expect(served.output()).toMatch(/sendguard http listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(served.messages().filter((m) => m !== 'bootstrap tenant created')).toEqual(['sendguard starting', 'sendguard started', 'shutting down', 'sendguard stopped']);
  }, 60_000);

  it('readiness answers 503 within about 2 s while the database does not answer, and 200 once it does again', async () => {
    const url = await stallableDatabase();
    const served = await serveThrough(url);
    const base = await served.http();
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    proxy!.stall();
    const asked = Date.now();
    const stalled = await fetch(`${base}/readyz`);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect([stalled.status, await stalled.json()]).toEqual([503, { status: 'unavailable', reason: 'the database did not answer within 2000 ms' }]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    proxy!.resume();
    let status = 0;
    const poll = setInterval(() => void fetch(`${base}/readyz`).then((r) => (status = r.status), () => undefined), 200);
    try {
      await waitUntil(() => status === 200, 'readiness again');
    } finally {
      clearInterval(poll);
    }
    served.child.kill('SIGTERM');
    expect(await exitWithin(served, 30_000)).toBe(0);
  }, 60_000);

  it('a query or a mutation the database holds up is answered after SENDGUARD_GRAPHQL_TIMEOUT_MS with TIMEOUT (HTTP 503)', async () => {
    const url = await stallableDatabase();
    const served = await serveThrough(url, { SENDGUARD_GRAPHQL_TIMEOUT_MS: '1000' });
    const base = await served.http();
    const minted = await runSendguard(['token', '--tenant', 'default', '--principal', 'admin@contoso.com', '--role', 'Security Administrator'], { SENDGUARD_DATA_DIR: served.dataDir, DATABASE_URL: '' });
    const post = (query: string) => fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${minted.stdout.trim()}`, 'x-graphql-csrf': '1' },
      body: JSON.stringify({ query }),
    });
    const list = 'query { restrictedUsers(first: 5) { totalCount } }';
    const release = 'mutation { unblockUser(input: { senderAddress: "ann@contoso.com", reason: "MFA on" }) { __typename } }';
    expect(await (await post(list)).json()).toEqual({ data: { restrictedUsers: { totalCount: 0 } } });

    proxy!.stall();
    for (const [query, then] of [[list, 'try again shortly'], [release, 'the change may still be made: check before trying again']]) {
      const asked = Date.now();
      const answer = await post(query as string);
      expect(Date.now() - asked).toBeGreaterThanOrEqual(1000);
      expect(Date.now() - asked).toBeLessThan(10_000);
      expect([answer.status, await answer.json()]).toEqual([503, { errors: [{ message: `The request did not complete within 1000 ms; ${then}.`, extensions: { code: 'TIMEOUT' } }] }]);
    }
    const verb = await runSendguard(['get-blocked-sender-address'], { SENDGUARD_URL: `${base}/graphql`, SENDGUARD_TOKEN: minted.stdout.trim(), DATABASE_URL: undefined });
    expect([verb.code, verb.stdout, verb.stderr]).toEqual([1, '', 'sendguard get-blocked-sender-address: the server gave up: The request did not complete within 1000 ms; try again shortly.\n']);
    proxy!.resume();
    expect(await (await post(list)).json()).toEqual({ data: { restrictedUsers: { totalCount: 0 } } });
    served.child.kill('SIGTERM');
    expect(await exitWithin(served, 30_000)).toBe(0);
  }, 60_000);

  it('a stop that the database holds up ends after SENDGUARD_SHUTDOWN_TIMEOUT_MS with status 1, saying what it waited for', async () => {
    const url = await stallableDatabase();
    const served = await serveThrough(url, { SENDGUARD_SHUTDOWN_TIMEOUT_MS: '2000' });
    await served.http();
    proxy!.stall();
    const asked = Date.now();
    served.child.kill('SIGTERM');
    expect(await exitWithin(served, 20_000)).toBe(1);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2000);
    expect(served.logged().at(-1)).toMatchObject({ level: 50, msg: 'shutdown took longer than SENDGUARD_SHUTDOWN_TIMEOUT_MS; exiting anyway', timeoutMs: 2000, waitingFor: expect.any(String) });
  }, 60_000);

  it('a second signal during a stop ends the process at once', async () => {
    const url = await stallableDatabase();
    const served = await serveThrough(url);
    await served.http();
    proxy!.stall();
    served.child.kill('SIGTERM');
    await waitUntil(() => served.messages().includes('shutting down'), 'the stop');
    await new Promise((r) => setTimeout(r, 300));
    expect(served.child.exitCode).toBeNull();
    served.child.kill('SIGINT');
    // The stop itself would wait 20 s (the default) for the stalled database.
    expect(await exitWithin(served, 5_000)).toBe(1);
    expect(served.messages().at(-1)).toBe('second signal; exiting at once');
  }, 60_000);
});
