import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type CpuPerRequest, startCpuMeter } from './cpu.ts';
import { DEFAULT_RESULTS_DIR, writeResultFiles } from './results-files.ts';
import { domainOf, SURNAMES, seedRestrictedUsers, seededSender, tenantIdOf } from './api-seed.ts';
import { type Percentiles, PERCENTILE_HEADER, percentileRow, percentiles } from './latency-stats.ts';
import { describeMachine, type Machine, machineLine } from './machine.ts';
import { adminToken, baseEnv, cleanUpOnSignals, graphql, postgresVersion, scratchDeployment, startSendguardProcess } from './sendguard-cluster.ts';

export interface ApiOptions {
  readonly tenants: number;
  readonly perTenant: number;
  readonly clients: number;
  readonly seconds: number;
  readonly unblocks: number;
  readonly outDir: string;
}

interface ListRun {
  readonly label: string;
  readonly clients: number;
  /** API processes the clients were spread over (round-robin), all on the one database. */
  readonly processes: number;
  /** Search terms, used in turn; with how many of the tenant's senders the first one matches. */
  readonly terms: readonly string[];
  readonly matchesPerTenant: number;
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Percentiles;
  /** CPU time per request after the warm-up: the API processes, PostgreSQL, the load generator. */
  readonly cpuUsPerRequest?: CpuPerRequest;
}

export interface ApiReport {
  readonly generatedAt: string;
  readonly machine: Machine;
  readonly setup: string;
  readonly restrictedUsers: readonly ListRun[];
  readonly unblockUser: Percentiles & { readonly errors: number };
}

/** The README's list example: first page of 50 with the detail a console shows. */
const LIST = `query($search: String!) { restrictedUsers(first: 50, filter: { search: $search }) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { senderAddress reason reasonCode status restrictedAt expiresAt policy { name }
    releases { releasedAt releasedBy reason } blockedSenderAddress { SenderAddress Reason CreatedDatetime TemporaryBlock } } } } }`;

const UNBLOCK = `mutation($input: UnblockUserInput!) { unblockUser(input: $input) {
  __typename ... on UnblockUserSuccess { restrictedUser { status releasedAt releasedBy } } ... on Error { message } } }`;

type ListData = { restrictedUsers: { totalCount: number; edges: unknown[] } };

/** An API process under load: where to send, and whose CPU to measure. */
interface ApiProcess { readonly url: string; readonly pid: number }

/**
 * `clients` concurrent loops for `seconds` seconds, each request waiting for the previous one;
 * client k sends to `apis[k % apis.length]`.
 */
async function loadList(apis: readonly ApiProcess[], token: string, o: ApiOptions & { clients: number }, label: string, terms: readonly string[]): Promise<ListRun> {
  const urls = apis.map((a) => a.url);
  const first = await graphql<ListData>(urls[0] as string, token, LIST, { search: terms[0] });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const warmUntil = performance.now() + 2000;
  let cpu: ReturnType<typeof startCpuMeter> | undefined;
  const warmed = setTimeout(() => { cpu = startCpuMeter(apis.map((a) => a.pid)); }, 2000);
  const started = { at: 0 };
  const until = warmUntil + o.seconds * 1000;
  await Promise.all(Array.from({ length: o.clients }, async (_, client) => {
    const url = urls[client % urls.length] as string;
    while (performance.now() < until) {
      const search = terms[next++ % terms.length];
      const t0 = performance.now();
      try {
        const data = await graphql<ListData>(url, token, LIST, { search });
        if (data.restrictedUsers.edges.length === 0) throw new Error(`no match for ${search}`);
      } catch (e) {
        if (errors++ === 0) console.error(`restrictedUsers: ${(e as Error).message}`);
        continue;
      }
      const t1 = performance.now();
      if (t0 >= warmUntil) {
        started.at ||= t0;
        latencies.push(t1 - t0);
      }
    }
  }));
  clearTimeout(warmed);
  const cpuUsPerRequest = cpu?.stop(latencies.length);
  const elapsed = (performance.now() - (started.at || warmUntil)) / 1000;
  return {
    label, clients: o.clients, processes: urls.length, terms, matchesPerTenant: first.restrictedUsers.totalCount, requests: latencies.length, errors,
    requestsPerSecond: Math.round(latencies.length / elapsed), latencyMs: percentiles(latencies), ...(cpuUsPerRequest ? { cpuUsPerRequest } : {}),
  };
}

/** Sequential releases of distinct seeded senders of one tenant (no quota configured). */
async function loadUnblock(url: string, token: string, count: number): Promise<ApiReport['unblockUser']> {
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < count + 20; i++) {
    const sender = seededSender(0, i + 1);
    const t0 = performance.now();
    const data = await graphql<{ unblockUser: { __typename: string } }>(url, token, UNBLOCK, { input: { senderAddress: sender, reason: 'bench release' } });
    const t1 = performance.now();
    if (data.unblockUser.__typename !== 'UnblockUserSuccess') {
      if (errors++ === 0) console.error(`unblockUser ${sender}: ${JSON.stringify(data.unblockUser)}`);
      continue;
    }
    if (i >= 20) latencies.push(t1 - t0);
  }
  return { ...percentiles(latencies), errors };
}

const cpuCell = (c: CpuPerRequest | undefined): string =>
  c === undefined ? '—' : [c.server, c.postgres, c.load].map((us) => (us / 1000).toFixed(2)).join(' / ');

export function renderApiMarkdown(r: ApiReport): string {
  return [
    '# GraphQL API latency',
    '',
    `Generated ${r.generatedAt} on ${machineLine(r.machine)}.`,
    '',
    r.setup,
    '',
    '| query | search | matches per tenant | clients | API processes | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | p95 ≤ 20 ms | CPU ms/request: API / PostgreSQL / load |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|',
    ...r.restrictedUsers.map((l) =>
      `| \`restrictedUsers(first: 50)\` | ${l.label} | ${l.matchesPerTenant.toLocaleString('en-US')} | ${l.clients} | ${l.processes} | ${l.requests.toLocaleString('en-US')} | ${l.errors} | ` +
      `${l.requestsPerSecond.toLocaleString('en-US')} | ${l.latencyMs.p50.toFixed(2)} | ${l.latencyMs.p95.toFixed(2)} | ${l.latencyMs.p99.toFixed(2)} | ` +
      `${l.latencyMs.max.toFixed(2)} | ${l.latencyMs.p95 <= 20 ? 'yes' : 'no'} | ${cpuCell(l.cpuUsPerRequest)} |`),
    '',
    'CPU per request (user + system, every thread, from /proc, after the warm-up): the API processes, PostgreSQL (all of ' +
      'its processes) and the load generator, which share the machine\'s cores. With every client waiting for its answer, ' +
      'requests/s can be no more than the cores divided by their sum, and a request waits about clients ÷ requests/s.',
    '',
    ...PERCENTILE_HEADER,
    percentileRow('`unblockUser`, sequential, distinct senders', r.unblockUser, 50, 'p95'),
    ...(r.unblockUser.errors > 0 ? ['', `unblockUser errors: ${r.unblockUser.errors}`] : []),
    '',
  ].join('\n');
}

/** Issue 8, requirement 4, against a real API process on a scratch PostgreSQL database. */
export async function runApiBench(o: ApiOptions): Promise<ApiReport> {
  const machine = await describeMachine();
  const deployment = await scratchDeployment('api');
  const tenantId = tenantIdOf(0);
  try {
    const env = {
      ...baseEnv({ dataDir: deployment.dataDir, databaseUrl: deployment.database.url, tenantId, acceptedDomain: domainOf(0) }),
      SENDGUARD_UNBLOCK_QUOTA: '0',
    };
    const api = deployment.track(await startSendguardProcess({ dir: deployment.dir, name: 'api', roles: ['api'], env }));
    const seedStart = performance.now();
    await seedRestrictedUsers(deployment.database.url, { tenants: o.tenants, perTenant: o.perTenant });
    console.error(`api: seeded ${(o.tenants * o.perTenant).toLocaleString('en-US')} restricted users in ${Math.round(performance.now() - seedStart)} ms`);
    const url = `${api.urls.http}/graphql`;
    const token = await adminToken(deployment.dataDir, tenantId);
    const searches = [
      { label: `surname (\`${SURNAMES[0]}\`, \`${SURNAMES[1]}\`, …)`, terms: SURNAMES },
      { label: 'sender number (`4321`, `8765`, …)', terms: ['4321', '8765', '1234', '5678', '2468', '9753'] },
    ];
    const restrictedUsers: ListRun[] = [];
    const measure = async (apis: readonly ApiProcess[], clients: number): Promise<void> => {
      for (const s of searches) {
        const run = await loadList(apis, token, { ...o, clients }, s.label, s.terms);
        console.error(`api: restrictedUsers, ${s.terms[0]}…, ${clients} client(s), ${apis.length} process(es): ${run.requestsPerSecond} req/s, p95 ${run.latencyMs.p95} ms`);
        restrictedUsers.push(run);
      }
    };
    // One client gives the latency of a request on its own; 16 the throughput (and queueing).
    const first: ApiProcess = { url, pid: api.pid };
    for (const clients of [1, o.clients]) await measure([first], clients);
    // An API process serves on one core; more cores are used by more processes on the same database.
    const second = deployment.track(await startSendguardProcess({ dir: deployment.dir, name: 'api-2', roles: ['api'], env }));
    await measure([first, { url: `${second.urls.http}/graphql`, pid: second.pid }], o.clients);
    const unblockUser = await loadUnblock(url, token, o.unblocks);
    console.error(`api: unblockUser p95 ${unblockUser.p95} ms`);
    return {
      generatedAt: new Date().toISOString(), machine, restrictedUsers, unblockUser,
      setup:
        `One real \`sendguard serve --only api\` process (NODE_ENV=production) on a fresh ${await postgresVersion()} database ` +
        `(127.0.0.1) seeded with ${(o.tenants * o.perTenant).toLocaleString('en-US')} active restrictions: ${o.tenants} tenants ` +
        `provisioned by Sendguard's own code, ${o.perTenant.toLocaleString('en-US')} restricted users each (bulk SQL, shaped as ` +
        `enforcement writes them). \`restrictedUsers\`: 1, then ${o.clients} concurrent HTTP clients with keep-alive, each sending the next ` +
        `query when the previous answer arrives, for ${o.seconds} s after 2 s of warm-up (with ${o.clients} clients a request's latency ` +
        `includes its wait behind the others: about ${o.clients} ÷ req/s), one tenant's token, the README's list ` +
        `query (first page of 50 with totalCount, policy, releases and the Exchange view), the search term changing with every ` +
        `request; then the same ${o.clients} clients spread round-robin over that process and a second one on the same database ` +
        `(one API process computes on one core). ` +
        `\`unblockUser\`: ${o.unblocks} releases of distinct senders one after another, after 20 warm-up releases, no unblock quota.`,
    };
  } finally {
    await deployment.cleanup();
  }
}

export async function writeApiResults(report: ApiReport, outDir: string): Promise<string> {
  const markdown = renderApiMarkdown(report);
  await writeResultFiles(outDir, 'api', markdown, report);
  return markdown;
}

export function parseApiOptions(argv: readonly string[]): ApiOptions {
  const { values } = parseArgs({
    args: [...argv], strict: false,
    options: {
      tenants: { type: 'string', default: '10' }, 'per-tenant': { type: 'string', default: '10000' },
      clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '15' },
      unblocks: { type: 'string', default: '300' }, out: { type: 'string', default: DEFAULT_RESULTS_DIR },
    },
  });
  const o = {
    tenants: Number(values.tenants), perTenant: Number(values['per-tenant']), clients: Number(values.clients),
    seconds: Number(values.seconds), unblocks: Number(values.unblocks), outDir: String(values.out),
  };
  for (const key of ['tenants', 'perTenant', 'clients', 'seconds', 'unblocks'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new Error(`api bench: ${key} must be a positive integer`);
  }
  return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cleanUpOnSignals();
  const o = parseApiOptions(process.argv.slice(2));
  runApiBench(o)
    .then(async (report) => console.log(await writeApiResults(report, o.outDir)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    });
}
