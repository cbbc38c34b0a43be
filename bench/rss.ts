import { readFileSync } from 'node:fs';

/** Resident set size of one process in MiB, or undefined once it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples VmRSS of the given processes every `intervalMs` until stopped; `stop()` returns the
 * highest value any single process reached (MiB, one decimal), or null with nothing to sample.
 */
export function sampleRss(pids: readonly number[], intervalMs = 100): { stop(): number | null } {
  let max: number | null = null;
  const sample = (): void => {
    for (const pid of pids) {
      const mib = rssMiB(pid);
      if (mib !== undefined) max = Math.max(max ?? 0, mib);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max === null ? null : Math.round(max * 10) / 10;
    },
  };
}
