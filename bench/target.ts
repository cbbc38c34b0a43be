/** A policy server under test, started fresh for every measured run. */
export interface PolicyTarget {
  /** Short, stable name used in the table and to select targets with `--only`. */
  readonly name: string;
  /** Scenario ids this target takes part in; every scenario when absent. */
  readonly scenarios?: readonly string[];
  /** One line for the report: implementation, version, storage. */
  describe?(): Promise<string>;
  /**
   * Starts an instance on loopback that enforces "at most `limit` recipients per sender per
   * hour, then a 5xx" and holds no counts from earlier runs.
   */
  start(limit: number): Promise<RunningTarget>;
}

export interface RunningTarget {
  readonly port: number;
  /**
   * Every port when the target runs several server processes; load connections are spread over
   * them round-robin. Defaults to `[port]`.
   */
  readonly ports?: readonly number[];
  /** The serving processes, whose resident memory is sampled during the run. */
  readonly pids?: readonly number[];
  /** The end of the servers' logs, for a run that failed. */
  logTail?(): Promise<string>;
  stop(): Promise<void>;
}

/** Sender and recipient domains every run uses, so a target can configure accepted domains. */
export const BENCH_SENDER_DOMAIN = 'bench.sendguard.test';
export const BENCH_RECIPIENT_DOMAIN = 'example.net';
