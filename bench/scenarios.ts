import type { LoadResult } from './policy-load.ts';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly senders: number;
  readonly connections: number;
  readonly requests: number;
  /**
   * Requests sent to the same instance first, from other senders, and not measured: what a server
   * that has been up a while carries (remembered messages, counters, leases).
   */
  readonly warmupRequests?: number;
}

/**
 * Issue 8, requirement 2: the same rule everywhere, 20,000 RCPT requests per run. D is B on a
 * server that has already answered 50,000 requests, so its memory of recent messages is full
 * (Sendguard remembers 50,000) and every new message pushes out the oldest.
 */
export function policyScenarios(requests = 20_000): readonly Scenario[] {
  return [
    { id: 'A', title: '50 senders, mostly refused', senders: 50, connections: 16, requests },
    { id: 'B', title: '1,000 senders, all accepted', senders: 1000, connections: 16, requests },
    { id: 'C', title: '1,000 senders, one connection', senders: 1000, connections: 1, requests },
    { id: 'D', title: 'B after 50,000 earlier requests from 1,000 other senders', senders: 1000, connections: 16, requests, warmupRequests: 50_000 },
  ];
}

export interface Enforcement {
  /** Every sender got exactly min(limit, its requests) accepted and every other request a 5xx. */
  readonly exact: boolean;
  readonly expectedAccepted: number;
  /** Lowest and highest (accepted - expected) over all senders. */
  readonly minDelta: number;
  readonly maxDelta: number;
  /** Up to ten senders whose accepted count was off, with that count. */
  readonly offSenders: Readonly<Record<string, number>>;
  readonly note: string;
}

export function checkEnforcement(result: LoadResult, limit: number): Enforcement {
  let expectedAccepted = 0;
  let minDelta = Number.POSITIVE_INFINITY;
  let maxDelta = Number.NEGATIVE_INFINITY;
  const offSenders: Record<string, number> = {};
  for (const [sender, sent] of Object.entries(result.requestsBySender)) {
    const expected = Math.min(limit, sent);
    const accepted = result.acceptedBySender[sender] ?? 0;
    expectedAccepted += expected;
    minDelta = Math.min(minDelta, accepted - expected);
    maxDelta = Math.max(maxDelta, accepted - expected);
    if (accepted !== expected && Object.keys(offSenders).length < 10) offSenders[sender] = accepted;
  }
  const { deferred, other } = result.actions;
  const countsExact = minDelta === 0 && maxDelta === 0 && deferred === 0 && other === 0;
  const exact = result.completed && countsExact;
  return { exact, expectedAccepted, minDelta, maxDelta, offSenders, note: enforcementNote(result, exact, minDelta, maxDelta) };
}

function enforcementNote(result: LoadResult, exact: boolean, minDelta: number, maxDelta: number): string {
  if (!result.completed) return `incomplete: ${result.requests} of ${result.planned} requests within the time bound`;
  if (exact) return 'yes';
  const parts: string[] = [];
  if (minDelta !== 0 || maxDelta !== 0) parts.push(`accepted per sender off by ${signed(minDelta)}..${signed(maxDelta)}`);
  if (result.actions.deferred > 0) parts.push(`${result.actions.deferred} deferred`);
  if (result.actions.other > 0) parts.push(`${result.actions.other} other replies`);
  return `no (${parts.join(', ')})`;
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
