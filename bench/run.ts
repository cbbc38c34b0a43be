import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_RESULTS_DIR, writeResultFiles } from './results-files.ts';
import { parseApiOptions, runApiBench, writeApiResults } from './api.ts';
import { parseLatencyOptions, runLatencyBench, writeLatencyResults } from './latency.ts';
import { startCpuMeter } from './cpu.ts';
import { describeMachine } from './machine.ts';
import { runPolicyLoad } from './policy-load.ts';
import { type BenchReport, type RunRecord, renderMarkdown, summarize } from './report.ts';
import { sampleRss } from './rss.ts';
import { buildSendguard, cleanUpOnSignals } from './sendguard-cluster.ts';
import { type Scenario, checkEnforcement, policyScenarios } from './scenarios.ts';
import type { PolicyTarget, RunningTarget } from './target.ts';
import { BASELINE_TARGET, targets as allTargets } from './targets/index.ts';

interface BenchOptions {
  readonly repeat: number;
  readonly limit: number;
  readonly requests: number;
  readonly maxSeconds: number;
  readonly only: readonly string[] | undefined;
  readonly scenarios: readonly string[] | undefined;
  readonly outDir: string;
  /** policy (throughput vs the peers), latency (release propagation, events), api (GraphQL). */
  readonly suites: readonly string[];
}

const USAGE = 'usage: npm run bench -- [--repeat N] [--only name,name] [--scenarios A,B,C] ' +
  '[--requests 20000] [--limit 100] [--max-seconds 300] [--out DIR] [--suite policy,latency,api]';

function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      repeat: { type: 'string', default: '1' },
      limit: { type: 'string', default: '100' },
      requests: { type: 'string', default: '20000' },
      'max-seconds': { type: 'string', default: '300' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      suite: { type: 'string', default: 'policy,latency,api' },
      out: { type: 'string', default: DEFAULT_RESULTS_DIR },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);
  const options = {
    repeat: Number(values.repeat), limit: Number(values.limit), requests: Number(values.requests),
    maxSeconds: Number(values['max-seconds']), only: list(values.only), scenarios: list(values.scenarios), outDir: values.out,
    suites: list(values.suite) ?? [],
  };
  for (const key of ['repeat', 'limit', 'requests', 'maxSeconds'] as const) {
    if (!Number.isInteger(options[key]) || options[key] <= 0) throw new Error(`--${key} must be a positive integer\n${USAGE}`);
  }
  return options;
}

function selectTargets(only: readonly string[] | undefined): PolicyTarget[] {
  if (only === undefined) return [...allTargets];
  const unknown = only.filter((n) => !allTargets.some((t) => t.name === n));
  if (unknown.length > 0) throw new Error(`unknown target(s): ${unknown.join(', ')}; known: ${allTargets.map((t) => t.name).join(', ')}`);
  return allTargets.filter((t) => only.includes(t.name));
}

/** The instance being measured, so an interrupted bench does not leave a daemon behind. */
let current: RunningTarget | undefined;

cleanUpOnSignals(() => current?.stop() ?? Promise.resolve());

async function measureOnce(target: PolicyTarget, scenario: Scenario, o: BenchOptions, repeat: number): Promise<RunRecord> {
  const base = { target: target.name, scenario: scenario.id, repeat };
  let running: RunningTarget;
  try {
    running = await target.start(o.limit);
    current = running;
  } catch (e) {
    return { ...base, error: `start failed: ${(e as Error).message}` };
  }
  const rss = sampleRss(running.pids ?? []);
  try {
    const load = { port: running.port, ports: running.ports, connections: scenario.connections, senders: scenario.senders, maxSeconds: o.maxSeconds };
    if (scenario.warmupRequests !== undefined) {
      const warmup = await runPolicyLoad({ ...load, requests: scenario.warmupRequests, senderTag: randomBytes(3).toString('hex') });
      if (!warmup.completed) throw new Error(`warm-up: ${warmup.requests} of ${warmup.planned} requests within the time bound`);
    }
    const cpu = startCpuMeter(running.pids ?? []);
    const result = await runPolicyLoad({ ...load, requests: scenario.requests, senderTag: randomBytes(3).toString('hex') });
    const cpuUsPerRequest = cpu.stop(result.requests);
    const rssMaxMiB = rss.stop();
    const { requestsBySender: _r, acceptedBySender: _a, ...summary } = result;
    return {
      ...base, result: summary, enforcement: checkEnforcement(result, o.limit),
      ...(rssMaxMiB === null ? {} : { rssMaxMiB }), ...(cpuUsPerRequest === undefined ? {} : { cpuUsPerRequest }),
    };
  } catch (e) {
    // What the server said is gone with its scratch directory once it stops: keep the end of it.
    const log = await running.logTail?.().catch(() => '');
    return { ...base, error: log ? `${(e as Error).message}\nserver log (end):\n${log}` : (e as Error).message };
  } finally {
    rss.stop();
    current = undefined;
    await running.stop().catch((e: unknown) => console.error(`${target.name}: stop failed: ${(e as Error).message}`));
  }
}

function progress(r: RunRecord): string {
  const head = `${r.target} ${r.scenario} #${r.repeat}:`;
  if (r.result === undefined) return `${head} ERROR ${r.error ?? ''}`;
  const { requestsPerSecond, latencyMs, actions } = r.result;
  return `${head} ${requestsPerSecond} req/s, p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms, ` +
    `accepted ${actions.accepted}, refused ${actions.refused}, exact: ${r.enforcement?.note ?? 'n/a'}`;
}

async function runPolicySuite(o: BenchOptions): Promise<void> {
  const targets = selectTargets(o.only);
  const scenarios = policyScenarios(o.requests).filter((s) => o.scenarios === undefined || o.scenarios.includes(s.id));
  const machine = await describeMachine();
  const runs: RunRecord[] = [];
  for (let repeat = 1; repeat <= o.repeat; repeat++) {
    for (const target of targets) {
      for (const scenario of scenarios.filter((s) => target.scenarios === undefined || target.scenarios.includes(s.id))) {
        const record = await measureOnce(target, scenario, o, repeat);
        console.error(progress(record));
        runs.push(record);
      }
    }
  }
  const report: BenchReport = {
    generatedAt: new Date().toISOString(), machine, limit: o.limit, repeat: o.repeat,
    baseline: BASELINE_TARGET,
    targets: await Promise.all(targets.map(async (t) => ({ name: t.name, description: (await t.describe?.()) ?? t.name }))),
    scenarios, rows: summarize(targets.map((t) => t.name), scenarios, runs, BASELINE_TARGET), runs,
  };
  const markdown = renderMarkdown(report);
  await writeResultFiles(o.outDir, 'policy', markdown, report);
  console.log(markdown);
  if (runs.some((r) => r.error !== undefined)) process.exitCode = 1;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const unknownSuites = o.suites.filter((s) => !['policy', 'latency', 'api'].includes(s));
  if (unknownSuites.length > 0) throw new Error(`unknown suite(s): ${unknownSuites.join(', ')}\n${USAGE}`);
  await buildSendguard();
  if (o.suites.includes('policy')) await runPolicySuite(o);
  if (o.suites.includes('latency')) console.log(await writeLatencyResults(await runLatencyBench(parseLatencyOptions(['--out', o.outDir])), o.outDir));
  if (o.suites.includes('api')) console.log(await writeApiResults(await runApiBench(parseApiOptions(['--out', o.outDir])), o.outDir));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
