import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
const TICKS_PER_SECOND = ((): number => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** CPU time of one process, user plus system, all its threads, in seconds; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of every PostgreSQL server process on this machine (command name `postgres`): the
 * backends of every database and the server's own workers (WAL writer, checkpointer). A bench
 * machine runs nothing else on it, so the difference over a run is what the run cost the server.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    total += processCpuSeconds(Number(entry)) ?? 0;
  }
  return total;
}

/** CPU time per request, in microseconds, of each party to a run. */
export interface CpuPerRequest {
  /** The target's serving processes (with an embedded database, that database too). */
  readonly server: number;
  /** PostgreSQL, all of its processes. */
  readonly postgres: number;
  /** This process: the load generator. */
  readonly load: number;
}

/**
 * Starts counting the CPU time the target's processes, PostgreSQL and this process spend; `stop`
 * divides each by the requests answered (a serving process that exited meanwhile counts nothing).
 */
export function startCpuMeter(pids: readonly number[]): { stop(requests: number): CpuPerRequest | undefined } {
  const first = new Map(pids.map((pid) => [pid, processCpuSeconds(pid) ?? 0]));
  const postgresAtStart = postgresCpuSeconds();
  const loadAtStart = process.cpuUsage();
  return {
    stop(requests) {
      if (requests <= 0) return undefined;
      let server = 0;
      for (const pid of pids) server += (processCpuSeconds(pid) ?? first.get(pid) ?? 0) - (first.get(pid) ?? 0);
      const load = process.cpuUsage(loadAtStart);
      const perRequest = (seconds: number): number => Math.round((seconds * 1e6) / requests);
      return {
        server: perRequest(server),
        postgres: perRequest(postgresCpuSeconds() - postgresAtStart),
        load: perRequest((load.user + load.system) / 1e6),
      };
    },
  };
}
