import type { CpuPerRequest } from './cpu.ts';
import { type Machine, machineLine } from './machine.ts';
import type { LoadResult } from './policy-load.ts';
import type { Enforcement, Scenario } from './scenarios.ts';
import { median, round3 } from './stats.ts';

export type RunSummary = Omit<LoadResult, 'requestsBySender' | 'acceptedBySender'>;

export interface RunRecord {
  readonly target: string;
  readonly scenario: string;
  readonly repeat: number;
  readonly error?: string;
  readonly result?: RunSummary;
  readonly enforcement?: Enforcement;
  /** Highest resident set size any serving process of the target reached during the run. */
  readonly rssMaxMiB?: number;
  /** CPU time per request of the serving processes, PostgreSQL and the load generator during the run. */
  readonly cpuUsPerRequest?: CpuPerRequest;
}

export interface SummaryRow {
  readonly target: string;
  readonly scenario: string;
  readonly runs: number;
  readonly errors: readonly string[];
  readonly requestsPerSecond: number;
  readonly ratioToBaseline: number | null;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** p99 of each sender's first message, and of the requests after them (medians). */
  readonly firstPassP99Ms: number;
  readonly laterP99Ms: number;
  /** Medians over the runs; null when no run measured CPU. */
  readonly cpuUsPerRequest: CpuPerRequest | null;
  readonly accepted: string;
  readonly refused: string;
  readonly exact: string;
  /** Highest per-process RSS over the runs (MiB); null when the target's processes were not sampled. */
  readonly rssMaxMiB: number | null;
}

export interface BenchReport {
  readonly generatedAt: string;
  readonly machine: Machine;
  readonly limit: number;
  readonly repeat: number;
  readonly baseline: string;
  readonly targets: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly scenarios: readonly Scenario[];
  readonly rows: readonly SummaryRow[];
  readonly runs: readonly RunRecord[];
}

const num = (n: number): string => n.toLocaleString('en-US');

function spread(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? num(lo) : `${num(lo)}–${num(hi)}`;
}

function exactness(ok: readonly RunRecord[], errors: readonly string[]): string {
  if (ok.length === 0) return errors.length > 0 ? 'error' : 'n/a';
  const notes = ok.map((r) => r.enforcement?.note ?? 'n/a');
  if (notes.every((n) => n === 'yes') && errors.length === 0) return 'yes';
  const bad = notes.filter((n) => n !== 'yes');
  return bad.length > 0 ? [...new Set(bad)].join('; ') : 'yes (some runs failed)';
}

const rssValues = (runs: readonly RunRecord[]): number[] => runs.flatMap((r) => (r.rssMaxMiB === undefined ? [] : [r.rssMaxMiB]));

function medianCpu(runs: readonly RunRecord[]): CpuPerRequest | null {
  const measured = runs.flatMap((r) => (r.cpuUsPerRequest === undefined ? [] : [r.cpuUsPerRequest]));
  if (measured.length === 0) return null;
  const of = (f: (c: CpuPerRequest) => number): number => Math.round(median(measured.map(f)));
  return { server: of((c) => c.server), postgres: of((c) => c.postgres), load: of((c) => c.load) };
}

function summarizeCell(target: string, scenario: string, runs: readonly RunRecord[]): Omit<SummaryRow, 'ratioToBaseline'> {
  const mine = runs.filter((r) => r.target === target && r.scenario === scenario);
  const ok = mine.filter((r): r is RunRecord & { result: RunSummary } => r.result !== undefined);
  const errors = mine.flatMap((r) => (r.error === undefined ? [] : [r.error]));
  const pick = (f: (r: RunSummary) => number): number => round3(median(ok.map((r) => f(r.result))));
  return {
    target, scenario, runs: ok.length, errors,
    requestsPerSecond: Math.round(median(ok.map((r) => r.result.requestsPerSecond))),
    latencyMs: {
      p50: pick((r) => r.latencyMs.p50), p90: pick((r) => r.latencyMs.p90),
      p99: pick((r) => r.latencyMs.p99), max: pick((r) => r.latencyMs.max),
    },
    firstPassP99Ms: pick((r) => r.firstPassLatencyMs.p99),
    laterP99Ms: pick((r) => r.laterLatencyMs.p99),
    cpuUsPerRequest: medianCpu(ok),
    accepted: ok.length === 0 ? '' : spread(ok.map((r) => r.result.actions.accepted)),
    refused: ok.length === 0 ? '' : spread(ok.map((r) => r.result.actions.refused)),
    exact: exactness(ok, errors),
    rssMaxMiB: rssValues(ok).length === 0 ? null : Math.max(...rssValues(ok)),
  };
}

/** One row per target and scenario: medians over the repeats, ratios to the baseline's median. */
export function summarize(
  targetNames: readonly string[], scenarios: readonly Scenario[], runs: readonly RunRecord[], baseline: string,
): SummaryRow[] {
  const cells = targetNames.flatMap((t) => scenarios.map((s) => summarizeCell(t, s.id, runs)))
    .filter((c) => c.runs > 0 || c.errors.length > 0);
  return cells.map((c) => {
    const base = cells.find((b) => b.target === baseline && b.scenario === c.scenario);
    const ratio = base && base.requestsPerSecond > 0 && c.runs > 0 ? c.requestsPerSecond / base.requestsPerSecond : null;
    return { ...c, ratioToBaseline: ratio === null ? null : Math.round(ratio * 100) / 100 };
  });
}

const ms = (n: number): string => n.toFixed(2);

function tableRow(row: SummaryRow, scenario: Scenario | undefined): string {
  const failed = row.runs === 0;
  const cells = [
    row.target, `${row.scenario}`, num(scenario?.senders ?? 0), String(scenario?.connections ?? ''),
    failed ? '—' : num(row.requestsPerSecond), row.ratioToBaseline === null ? '—' : `${row.ratioToBaseline.toFixed(2)}×`,
    failed ? '—' : ms(row.latencyMs.p50), failed ? '—' : ms(row.latencyMs.p90),
    failed ? '—' : ms(row.latencyMs.p99), failed ? '—' : ms(row.latencyMs.max),
    row.accepted, row.refused, row.exact, row.rssMaxMiB === null ? '—' : row.rssMaxMiB.toFixed(0),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Where a scenario's time goes: CPU per request by party, and the first pass's tail beside the rest's. */
function costRow(row: SummaryRow): string {
  const cpu = row.cpuUsPerRequest;
  const failed = row.runs === 0;
  const cells = [
    row.target, row.scenario,
    cpu === null ? '—' : num(cpu.server), cpu === null ? '—' : num(cpu.postgres), cpu === null ? '—' : num(cpu.load),
    cpu === null ? '—' : num(cpu.server + cpu.postgres),
    failed ? '—' : ms(row.firstPassP99Ms), failed ? '—' : ms(row.laterP99Ms),
  ];
  return `| ${cells.join(' | ')} |`;
}

export function renderMarkdown(report: BenchReport): string {
  const byId = new Map(report.scenarios.map((s) => [s.id, s]));
  const requests = report.scenarios[0]?.requests ?? 0;
  const lines = [
    '# Policy server throughput',
    '',
    `Generated ${report.generatedAt} on ${machineLine(report.machine)}.`,
    '',
    `Rule everywhere: at most ${report.limit} recipients per sender per hour, then a 5xx. ` +
      `${num(requests)} RCPT requests per run, one request in flight per connection, a fresh server per run. ` +
      `Figures are medians of ${report.repeat} run(s); ratios are to ${report.baseline}'s requests/s in the same scenario.`,
    '',
    '| target | scenario | senders | conns | req/s | vs ' + report.baseline + ' | p50 ms | p90 ms | p99 ms | max ms | accepted | refused | exact | max RSS MiB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|',
    ...report.rows.map((r) => tableRow(r, byId.get(r.scenario))),
    '',
    'Scenarios: ' + report.scenarios.map((s) => `${s.id} = ${s.title}`).join('; ') + '.',
    '"exact" = every sender had exactly min(limit, its requests) accepted and every other request refused with a 5xx.',
    '"max RSS" = the highest VmRSS of any one serving process, sampled every 100 ms during the run (highest over the repeats).',
    '',
    '## Where the time goes',
    '',
    'CPU time per request during the run (user + system, every thread, from /proc; medians): the serving processes (with ' +
      'the embedded database, it too), PostgreSQL (all of its processes on the machine) and the load generator, which share ' +
      'the machine\'s cores. "first pass" = the requests of each sender\'s first message, a sender the server has not seen ' +
      'in the run, so a database-backed server must decide it there; "later" = every request after those.',
    '',
    '| target | scenario | server µs/req | PostgreSQL µs/req | load generator µs/req | server + PostgreSQL | first pass p99 ms | later p99 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...report.rows.map(costRow),
    '',
    'Targets:',
    ...report.targets.map((t) => `- ${t.name}: ${t.description}`),
  ];
  const errors = report.rows.flatMap((r) => r.errors.map((e) => `- ${r.target} ${r.scenario}: ${e}`));
  if (errors.length > 0) lines.push('', 'Errors:', ...errors);
  return `${lines.join('\n')}\n`;
}
