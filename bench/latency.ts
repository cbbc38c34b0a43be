import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_RESULTS_DIR, writeResultFiles } from './results-files.ts';
import { type Percentiles, PERCENTILE_HEADER, percentileRow, percentiles } from './latency-stats.ts';
import { describeMachine, type Machine, machineLine } from './machine.ts';
import { classifyAction, formatRcptRequest, PolicyConnection } from './policy-protocol.ts';
import { adminToken, baseEnv, cleanUpOnSignals, graphql, postgresVersion, scratchDeployment, startSendguardProcess } from './sendguard-cluster.ts';
import { type SseSubscription, openSse } from './sse-client.ts';
import { BENCH_RECIPIENT_DOMAIN, BENCH_SENDER_DOMAIN } from './target.ts';

/** External recipients per hour before a sender is restricted (kept small: every sample is a new sender). */
const LIMIT = 2;
const REFUSED = '550 5.1.8';
const STEP_TIMEOUT_MS = 10_000;

export interface LatencyOptions {
  readonly samples: number;
  readonly warmup: number;
  readonly outDir: string;
}

export interface LatencyReport {
  readonly generatedAt: string;
  readonly machine: Machine;
  readonly setup: string;
  readonly samples: number;
  readonly releasePropagationMs: Percentiles;
  readonly restrictionToEventMs: Percentiles;
  /** RCPT requests the poll needed before the first accepted one, per release. */
  readonly pollsPerRelease: Percentiles;
  readonly failures: readonly string[];
}

const RESTRICTED_EVENTS = `subscription { restrictionEvents(filter: { types: [USER_RESTRICTED] }) {
  __typename ... on UserRestricted { eventId senderAddress } } }`;

const UNBLOCK = `mutation($input: UnblockUserInput!) { unblockUser(input: $input) { __typename ... on Error { message } } }`;

interface Sample {
  restrictionToEventMs: number;
  releasePropagationMs: number;
  polls: number;
}

/** One sender's round: over the limit (refused, event timed), then released (propagation timed). */
async function measureSender(
  ctx: { policy: PolicyConnection; events: SseSubscription; graphqlUrl: string; token: string },
  sender: string,
): Promise<Sample> {
  let n = 0;
  const rcpt = (): Promise<string> =>
    ctx.policy.ask(formatRcptRequest({
      sender, recipient: `r${n++}@${BENCH_RECIPIENT_DOMAIN}`, instance: sender, queueId: '', size: 1000, clientIndex: 1, saslUsername: '',
    }));
  for (let i = 0; i < LIMIT; i++) {
    const action = await rcpt();
    if (classifyAction(action) !== 'accepted') throw new Error(`${sender}: recipient ${i + 1} of ${LIMIT} not accepted: ${action}`);
  }
  const arrived = ctx.events.arrival(sender, STEP_TIMEOUT_MS);
  const over = await rcpt();
  const refusedAt = performance.now();
  if (!over.startsWith(REFUSED)) throw new Error(`${sender}: over the limit but not refused with 5.1.8: ${over}`);
  const restrictionToEventMs = (await arrived) - refusedAt;

  const again = await rcpt();
  if (!again.startsWith(REFUSED)) throw new Error(`${sender}: restricted but not refused with 5.1.8: ${again}`);
  const result = await graphql<{ unblockUser: { __typename: string; message?: string } }>(ctx.graphqlUrl, ctx.token, UNBLOCK, {
    input: { senderAddress: sender, reason: 'bench release' },
  });
  const releasedAt = performance.now();
  if (result.unblockUser.__typename !== 'UnblockUserSuccess') throw new Error(`${sender}: unblockUser: ${JSON.stringify(result.unblockUser)}`);
  for (let polls = 1; ; polls++) {
    const action = await rcpt();
    const now = performance.now();
    if (classifyAction(action) === 'accepted') return { restrictionToEventMs, releasePropagationMs: now - releasedAt, polls };
    if (!action.startsWith(REFUSED)) throw new Error(`${sender}: unexpected reply while polling: ${action}`);
    if (now - releasedAt > STEP_TIMEOUT_MS) throw new Error(`${sender}: still refused ${STEP_TIMEOUT_MS} ms after the release`);
  }
}

export function renderLatencyMarkdown(r: LatencyReport): string {
  return [
    '# Release propagation and restriction events',
    '',
    `Generated ${r.generatedAt} on ${machineLine(r.machine)}.`,
    '',
    r.setup,
    '',
    ...PERCENTILE_HEADER,
    percentileRow('release propagation: `unblockUser` response → first accepted RCPT at the other process', r.releasePropagationMs, 1000, 'p99'),
    percentileRow('restriction to event: refused RCPT (5.1.8) → `UserRestricted` on the SSE subscriber', r.restrictionToEventMs, 1000, 'p99'),
    '',
    `RCPT requests per release until the first accepted one: p50 ${r.pollsPerRelease.p50}, p99 ${r.pollsPerRelease.p99}, max ${r.pollsPerRelease.max}.` +
      ` Aim for release propagation: ≤ 100 ms.`,
    ...(r.failures.length > 0 ? ['', `Failed samples (${r.failures.length}):`, ...r.failures.slice(0, 20).map((f) => `- ${f}`)] : []),
    '',
  ].join('\n');
}

/** Issue 8, requirement 3, against two real processes on one scratch PostgreSQL database. */
export async function runLatencyBench(o: LatencyOptions): Promise<LatencyReport> {
  const machine = await describeMachine();
  const deployment = await scratchDeployment('latency');
  const tenantId = 'bench-latency';
  const env = {
    ...baseEnv({ dataDir: deployment.dataDir, databaseUrl: deployment.database.url, tenantId, acceptedDomain: BENCH_SENDER_DOMAIN }),
    SENDGUARD_LIMIT_EXTERNAL_PER_HOUR: String(LIMIT),
    SENDGUARD_LIMIT_INTERNAL_PER_HOUR: '10000',
    SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: '100000',
    SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: '1000000',
    SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE: '100000',
    SENDGUARD_UNBLOCK_QUOTA: '0',
  };
  let events: SseSubscription | undefined;
  let policy: PolicyConnection | undefined;
  try {
    // The API first: it migrates and provisions the tenant; the policy process then finds both.
    const api = deployment.track(await startSendguardProcess({ dir: deployment.dir, name: 'api', roles: ['api'], env }));
    const enforcer = deployment.track(await startSendguardProcess({ dir: deployment.dir, name: 'policy', roles: ['policy'], env }));
    const graphqlUrl = `${api.urls.http}/graphql`;
    const token = await adminToken(deployment.dataDir, tenantId);
    events = await openSse(graphqlUrl, token, RESTRICTED_EVENTS, (payload) => payload.senderAddress as string | undefined);
    policy = await PolicyConnection.open('127.0.0.1', Number(/:(\d+)$/.exec(enforcer.urls.policy ?? '')?.[1]), STEP_TIMEOUT_MS);
    const tag = randomBytes(3).toString('hex');
    const ctx = { policy, events, graphqlUrl, token };
    const samples: Sample[] = [];
    const failures: string[] = [];
    for (let i = 0; i < o.warmup + o.samples; i++) {
      const sender = `lat-${tag}-${i}@${BENCH_SENDER_DOMAIN}`;
      try {
        const s = await measureSender(ctx, sender);
        if (i >= o.warmup) samples.push(s);
      } catch (e) {
        failures.push((e as Error).message);
        if (failures.length > 10) throw new Error(`too many failed samples: ${failures.join('; ')}`);
      }
      if ((i + 1) % 50 === 0) console.error(`latency: ${i + 1 - o.warmup} of ${o.samples} samples`);
    }
    return {
      generatedAt: new Date().toISOString(), machine, samples: samples.length, failures,
      setup:
        `Two real processes on one fresh ${await postgresVersion()} database (127.0.0.1): \`sendguard serve --only api\` ` +
        `and \`sendguard serve --only policy\` (NODE_ENV=production, default \`SENDGUARD_RESTRICTION_CACHE_MS\` and ` +
        `\`SENDGUARD_EVENT_POLL_MS\`). Per sample a new sender sends ${LIMIT} accepted recipients, then one over the limit ` +
        `(refused with 550 5.1.8: restriction to event is timed from that reply to the \`UserRestricted\` event on an SSE ` +
        `\`restrictionEvents\` subscription held open on the API process); one more RCPT confirms the refusal, \`unblockUser\` ` +
        `goes over HTTP to the API process, and from its response one persistent policy connection asks RCPT in a tight loop ` +
        `until the first accepted reply. ${o.samples} samples after ${o.warmup} warm-up rounds, one at a time.`,
      releasePropagationMs: percentiles(samples.map((s) => s.releasePropagationMs)),
      restrictionToEventMs: percentiles(samples.map((s) => s.restrictionToEventMs)),
      pollsPerRelease: percentiles(samples.map((s) => s.polls)),
    };
  } finally {
    policy?.close();
    events?.close();
    await deployment.cleanup();
  }
}

export async function writeLatencyResults(report: LatencyReport, outDir: string): Promise<string> {
  const markdown = renderLatencyMarkdown(report);
  await writeResultFiles(outDir, 'latency', markdown, report);
  return markdown;
}

export function parseLatencyOptions(argv: readonly string[]): LatencyOptions {
  const { values } = parseArgs({
    args: [...argv], allowPositionals: false, strict: false,
    options: { samples: { type: 'string', default: '200' }, warmup: { type: 'string', default: '20' }, out: { type: 'string', default: DEFAULT_RESULTS_DIR } },
  });
  const samples = Number(values.samples);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(samples) || samples <= 0 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--samples must be a positive integer, --warmup a non-negative one');
  return { samples, warmup, outDir: String(values.out) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cleanUpOnSignals();
  const o = parseLatencyOptions(process.argv.slice(2));
  runLatencyBench(o)
    .then(async (report) => console.log(await writeLatencyResults(report, o.outDir)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    });
}
