import { percentile, round3 } from './stats.ts';

export interface Percentiles {
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of a set of timings in milliseconds. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    p50: round3(percentile(sorted, 50)),
    p95: round3(percentile(sorted, 95)),
    p99: round3(percentile(sorted, 99)),
    max: round3(sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0)),
    mean: round3(sorted.length === 0 ? 0 : sum / sorted.length),
  };
}

export const fmtMs = (n: number): string => n.toFixed(n < 10 ? 2 : 1);

/** `| what | samples | p50 | p95 | p99 | max | target | met |` */
export function percentileRow(what: string, p: Percentiles, targetMs: number, targetOn: 'p95' | 'p99'): string {
  const met = p.samples > 0 && p[targetOn] <= targetMs ? 'yes' : 'no';
  return `| ${what} | ${p.samples.toLocaleString('en-US')} | ${fmtMs(p.p50)} | ${fmtMs(p.p95)} | ${fmtMs(p.p99)} | ${fmtMs(p.max)} | ${targetOn} ≤ ${targetMs} ms | ${met} |`;
}

export const PERCENTILE_HEADER = ['| measured | samples | p50 ms | p95 ms | p99 ms | max ms | target | met |', '|---|--:|--:|--:|--:|--:|---|---|'];
