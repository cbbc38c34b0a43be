import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type ActionClass, PolicyConnection, assertLoopback, classifyAction, formatRcptRequest,
} from './policy-protocol.ts';
import { type LatencySummary, round3, summarizeLatencies } from './stats.ts';
import { BENCH_RECIPIENT_DOMAIN, BENCH_SENDER_DOMAIN } from './target.ts';

export interface LoadOptions {
  /** Loopback only. Default 127.0.0.1. */
  readonly host?: string;
  readonly port: number;
  /** Several server processes: connection c goes to ports[c % ports.length]. */
  readonly ports?: readonly number[];
  readonly connections: number;
  readonly requests: number;
  readonly senders: number;
  /** No new message is started after this many seconds. */
  readonly maxSeconds: number;
  /** Recipients per message (one `instance` each); default 1, so request i comes from sender i mod S. */
  readonly recipientsPerMessage?: number;
  readonly senderDomain?: string;
  readonly recipientDomain?: string;
  /** Added to every sender's local part so runs never share senders. */
  readonly senderTag?: string;
  /** Send `sasl_username` (= the sender address), as for authenticated submission. */
  readonly withSaslUsername?: boolean;
  readonly timeoutMs?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly planned: number;
  /** False when the time bound stopped the run before every planned request was sent. */
  readonly completed: boolean;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /**
   * `latencyMs` split in two: the requests of every sender's first message (the first pass over
   * the senders, each from a sender the server has not seen in this run), and all later ones.
   */
  readonly firstPassLatencyMs: LatencySummary;
  readonly laterLatencyMs: LatencySummary;
  readonly actions: Readonly<Record<ActionClass, number>>;
  /** Distinct reply texts and how often each came (the first 20 distinct). */
  readonly replies: Readonly<Record<string, number>>;
  readonly requestsBySender: Readonly<Record<string, number>>;
  readonly acceptedBySender: Readonly<Record<string, number>>;
}

interface Message { readonly index: number; readonly sender: number; readonly recipients: number }

class Recorder {
  readonly latencies: Float64Array;
  /** Per request in completion order: whether it belongs to the first pass over the senders. */
  readonly firstPass: Uint8Array;
  count = 0;
  readonly actions: Record<ActionClass, number> = { accepted: 0, deferred: 0, refused: 0, other: 0 };
  readonly replies = new Map<string, number>();
  readonly perSenderRequests: Int32Array;
  readonly perSenderAccepted: Int32Array;

  constructor(planned: number, senders: number) {
    this.latencies = new Float64Array(planned);
    this.firstPass = new Uint8Array(planned);
    this.perSenderRequests = new Int32Array(senders);
    this.perSenderAccepted = new Int32Array(senders);
  }

  record(sender: number, action: string, ms: number, firstPass: boolean): void {
    this.firstPass[this.count] = firstPass ? 1 : 0;
    this.latencies[this.count++] = ms;
    const cls = classifyAction(action);
    this.actions[cls] += 1;
    this.perSenderRequests[sender] = (this.perSenderRequests[sender] ?? 0) + 1;
    if (cls === 'accepted') this.perSenderAccepted[sender] = (this.perSenderAccepted[sender] ?? 0) + 1;
    const seen = this.replies.get(action);
    if (seen !== undefined) this.replies.set(action, seen + 1);
    else if (this.replies.size < 20) this.replies.set(action, 1);
  }
}

function validate(o: LoadOptions): void {
  assertLoopback(o.host ?? '127.0.0.1');
  const positive: ReadonlyArray<readonly [string, number]> = [
    ['connections', o.connections], ['requests', o.requests], ['senders', o.senders],
    ['maxSeconds', o.maxSeconds], ['recipientsPerMessage', o.recipientsPerMessage ?? 1],
  ];
  for (const [name, v] of positive) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`policy load: ${name} must be positive, got ${v}`);
  }
}

export function senderAddress(o: LoadOptions, k: number): string {
  const tag = o.senderTag ? `-${o.senderTag}` : '';
  return `s${String(k).padStart(4, '0')}${tag}@${o.senderDomain ?? BENCH_SENDER_DOMAIN}`;
}

/** Runs one load against a policy server and reports throughput, latency and what was enforced. */
export async function runPolicyLoad(o: LoadOptions): Promise<LoadResult> {
  validate(o);
  const host = o.host ?? '127.0.0.1';
  const ports = o.ports && o.ports.length > 0 ? o.ports : [o.port];
  const conns: PolicyConnection[] = [];
  try {
    // Sequential opens: small listen backlogs (policyd-rate-limit uses 5) would otherwise drop SYNs.
    for (let c = 0; c < o.connections; c++) {
      conns.push(await PolicyConnection.open(host, ports[c % ports.length] ?? o.port, o.timeoutMs ?? 10_000));
    }
    return await measure(o, conns);
  } finally {
    for (const conn of conns) conn.close();
  }
}

async function measure(o: LoadOptions, conns: readonly PolicyConnection[]): Promise<LoadResult> {
  const perMessage = o.recipientsPerMessage ?? 1;
  const rec = new Recorder(o.requests, o.senders);
  const nonce = randomBytes(4).toString('hex');
  let nextMessage = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(o.maxSeconds * 1e9));
  const take = (): Message | undefined => {
    const first = nextMessage * perMessage;
    if (first >= o.requests || process.hrtime.bigint() > deadline) return undefined;
    const index = nextMessage++;
    return { index, sender: index % o.senders, recipients: Math.min(perMessage, o.requests - first) };
  };
  await Promise.all(conns.map((conn, c) => drive(o, conn, c, nonce, take, rec)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summarize(o, rec, seconds);
}

async function drive(
  o: LoadOptions, conn: PolicyConnection, clientIndex: number, nonce: string,
  take: () => Message | undefined, rec: Recorder,
): Promise<void> {
  const perMessage = o.recipientsPerMessage ?? 1;
  for (let m = take(); m !== undefined; m = take()) {
    const sender = senderAddress(o, m.sender);
    for (let j = 0; j < m.recipients; j++) {
      const request = formatRcptRequest({
        sender,
        recipient: `r${m.index * perMessage + j}@${o.recipientDomain ?? BENCH_RECIPIENT_DOMAIN}`,
        instance: `${process.pid.toString(16)}.${nonce}.${m.index.toString(16)}.0`,
        queueId: (0x1000000000 + m.index).toString(16).toUpperCase(),
        size: 2048 + ((m.index * 7919) % 60_000),
        clientIndex,
        saslUsername: o.withSaslUsername ? sender : '',
      });
      const t0 = process.hrtime.bigint();
      const action = await conn.ask(request);
      rec.record(m.sender, action, Number(process.hrtime.bigint() - t0) / 1e6, m.index < o.senders);
    }
  }
}

function summarize(o: LoadOptions, rec: Recorder, seconds: number): LoadResult {
  const requestsBySender: Record<string, number> = {};
  const acceptedBySender: Record<string, number> = {};
  for (let k = 0; k < o.senders; k++) {
    const address = senderAddress(o, k);
    requestsBySender[address] = rec.perSenderRequests[k] ?? 0;
    acceptedBySender[address] = rec.perSenderAccepted[k] ?? 0;
  }
  return {
    requests: rec.count,
    planned: o.requests,
    completed: rec.count === o.requests,
    seconds: round3(seconds),
    requestsPerSecond: Math.round(rec.count / seconds),
    latencyMs: summarizeLatencies(rec.latencies.subarray(0, rec.count)),
    firstPassLatencyMs: summarizeLatencies(rec.latencies.filter((_, i) => i < rec.count && rec.firstPass[i] === 1)),
    laterLatencyMs: summarizeLatencies(rec.latencies.filter((_, i) => i < rec.count && rec.firstPass[i] === 0)),
    actions: { ...rec.actions },
    replies: Object.fromEntries(rec.replies),
    requestsBySender,
    acceptedBySender,
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: '16' },
      requests: { type: 'string', default: '20000' },
      senders: { type: 'string', default: '1000' },
      'max-seconds': { type: 'string', default: '120' },
      'recipients-per-message': { type: 'string', default: '1' },
      'recipient-domain': { type: 'string', default: BENCH_RECIPIENT_DOMAIN },
      'sender-domain': { type: 'string', default: BENCH_SENDER_DOMAIN },
      sasl: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.port === undefined) throw new Error('usage: policy-load.ts --port N [--connections 16] [--requests 20000] [--senders 1000] [--max-seconds 120] [--recipients-per-message 1] [--recipient-domain D] [--sender-domain D] [--sasl] [--json]');
  const result = await runPolicyLoad({
    host: values.host, port: Number(values.port), connections: Number(values.connections),
    requests: Number(values.requests), senders: Number(values.senders),
    maxSeconds: Number(values['max-seconds']), recipientsPerMessage: Number(values['recipients-per-message']),
    recipientDomain: values['recipient-domain'], senderDomain: values['sender-domain'], withSaslUsername: values.sasl,
  });
  if (values.json) return void console.log(JSON.stringify(result, null, 2));
  const { acceptedBySender, requestsBySender: _r, ...rest } = result;
  const accepted = Object.values(acceptedBySender);
  console.log(JSON.stringify({ ...rest, acceptedPerSender: { min: Math.min(...accepted), max: Math.max(...accepted) } }, null, 2));
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(resolve(invokedPath)).href) {
  cli().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
