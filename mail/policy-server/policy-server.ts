import net from 'node:net';
import { accept, type Decision } from '../../domain/enforcement/decision.ts';
import type { RecipientCheck } from '../../domain/enforcement/enforcement-service.ts';
import { defaultProtocolLimits, formatReply, ownString, PolicyProtocolError, PolicyRequestReader, type PolicyRequest, type ProtocolLimits } from './policy-protocol.ts';

export interface PolicyServerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PolicyServerMetrics {
  policyRequests: { inc(labels: { decision: string }): void };
  policyLatency: { observe(seconds: number): void };
}

export interface PolicyServerDeps {
  enforcement: {
    checkRecipient(check: RecipientCheck): Promise<Decision>;
    /** The same answer as `checkRecipient` when memory alone can give it; undefined otherwise. */
    answerFromMemory?(check: RecipientCheck): Decision | undefined;
  };
  logger?: PolicyServerLogger;
  metrics?: PolicyServerMetrics;
  limits?: ProtocolLimits;
  /** A connection with no traffic for this long is closed (Postfix reconnects when it needs to). */
  idleTimeoutMs?: number;
}

/** How Postfix acts on our decision: DUNNO lets its other restrictions decide. */
export function toPolicyAction(d: Decision): string {
  return d.verdict === 'accept' ? 'DUNNO' : `${d.smtpCode} ${d.enhancedCode} ${d.text}`;
}

/** The answer outside the RCPT stage, counted in the metrics as `not-rcpt`. */
const notRecipientStage = accept('not-outbound');

const READ = ['protocol_state', 'request', 'sender', 'recipient', 'sasl_username', 'client_address', 'instance'] as const;
/** The attributes this server reads; the reader stores no others. */
export const READ_ATTRIBUTES: ReadonlySet<string> = new Set(READ);

/** An attribute of a request, by one of the names the reader keeps (any other would always be missing). */
const attribute = (request: PolicyRequest, name: (typeof READ)[number]): string | undefined => request.get(name);

/** Postfix attributes → a recipient check; undefined for any other stage (only RCPT is checked and counted). */
function recipientCheckOf(request: PolicyRequest): RecipientCheck | undefined {
  const state = (attribute(request, 'protocol_state') ?? '').toUpperCase();
  const kind = attribute(request, 'request');
  if (state !== 'RCPT' || (kind !== undefined && kind !== 'smtpd_access_policy')) return undefined;
  // Enforcement remembers senders, messages and recipients for minutes: it gets strings of their own.
  const value = (name: (typeof READ)[number]): string => ownString(attribute(request, name) ?? '');
  return {
    sender: value('sender'),
    recipient: value('recipient'),
    saslUsername: value('sasl_username') || undefined,
    clientAddress: value('client_address') || undefined,
    instance: value('instance') || undefined,
    via: 'policy',
  };
}

interface Connection {
  socket: net.Socket;
  busy: boolean;
  closeWhenIdle: boolean;
  /** A bad request came: the requests before it are answered, then the connection is closed. */
  refused: boolean;
  /** Replies wait in memory for the client to read them: no request is read meanwhile. */
  waitingForClient: boolean;
}

/**
 * The Postfix policy delegation server: persistent connections, one request at a time per
 * connection, replies in request order. A malformed or oversized request closes only its own
 * connection, without a reply, as the protocol requires; the complete requests sent before it
 * are answered first.
 */
export function createPolicyServer(deps: PolicyServerDeps) {
  const limits = deps.limits ?? defaultProtocolLimits;
  const connections = new Set<Connection>();
  // Half-open: a client may send its requests and shut down its side (`printf … | nc`) before the answers come.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => serve(socket));

  /** The decision for a request: at once when memory gives it, else a promise of it. */
  function decide(request: PolicyRequest): Decision | Promise<Decision> {
    const check = recipientCheckOf(request);
    if (!check) return notRecipientStage;
    try {
      const quick = deps.enforcement.answerFromMemory?.(check);
      if (quick) return quick;
    } catch (err) {
      // The full path answers as configured for trouble; a fault in memory never costs the connection.
      deps.logger?.warn({ err }, 'answering from memory failed; asking the database');
    }
    return deps.enforcement.checkRecipient(check);
  }

  function finish(request: PolicyRequest, decision: Decision, started: bigint): string {
    deps.metrics?.policyRequests.inc({ decision: decision === notRecipientStage ? 'not-rcpt' : decision.reason });
    deps.metrics?.policyLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    // An answer given because the database is away is counted, and logged by enforcement once every
    // 5 s with the number left out: a line each would be thousands a second during an outage.
    if (decision.verdict !== 'accept' && decision.reason !== 'database-unavailable') {
      deps.logger?.info({ sender: attribute(request, 'sender'), recipient: attribute(request, 'recipient'), reason: decision.reason }, `policy: ${toPolicyAction(decision)}`);
    }
    return toPolicyAction(decision);
  }

  function serve(socket: net.Socket): void {
    const conn: Connection = { socket, busy: false, closeWhenIdle: false, refused: false, waitingForClient: false };
    connections.add(conn);
    const reader = new PolicyRequestReader(limits, READ_ATTRIBUTES);
    const queue: PolicyRequest[] = [];
    socket.setNoDelay(true);
    socket.setTimeout(deps.idleTimeoutMs ?? 600_000, () => socket.destroy());
    socket.on('error', (err) => deps.logger?.debug({ err }, 'policy connection error'));
    socket.on('close', () => connections.delete(conn));
    // The client sends no more: its complete requests are answered, then the connection ends (a
    // request left without its empty line is never read, so never counted).
    socket.on('end', () => {
      conn.closeWhenIdle = true;
      if (!conn.busy) socket.end();
    });

    // A client that sends requests without reading the replies would have them pile up here:
    // past the socket's high-water mark, reading stops until the client has taken them.
    function reply(text: string): void {
      if (socket.write(text) || conn.waitingForClient) return;
      conn.waitingForClient = true;
      socket.pause();
      socket.once('drain', () => {
        conn.waitingForClient = false;
        if (!conn.busy) socket.resume();
      });
    }

    // Requests are answered in order. Reading pauses while one waits for the database; one
    // answered from memory is written before the next is looked at, with no promise in between.
    async function drain(): Promise<void> {
      conn.busy = true;
      let paused = false;
      for (let request = queue.shift(); request && !socket.destroyed; request = queue.shift()) {
        try {
          const started = process.hrtime.bigint();
          let decision = decide(request);
          if (decision instanceof Promise) {
            if (!paused) socket.pause();
            paused = true;
            decision = await decision;
          }
          if (!socket.destroyed) reply(formatReply(finish(request, decision, started)));
        } catch (err) {
          // No reply on trouble: Postfix logs it and applies its default_action.
          deps.logger?.warn({ err }, 'policy request failed; closing the connection');
          socket.destroy();
        }
      }
      conn.busy = false;
      if (conn.refused) socket.destroySoon();
      else if (conn.closeWhenIdle) socket.end();
      else if (paused && !conn.waitingForClient) socket.resume();
    }

    socket.on('data', (chunk: Buffer) => {
      if (conn.refused) return;
      try {
        queue.push(...reader.push(chunk));
      } catch (err) {
        const kind = err instanceof PolicyProtocolError ? err.kind : 'malformed';
        deps.logger?.warn({ kind, remote: socket.remoteAddress, detail: (err as Error).message }, 'policy request refused; closing the connection');
        deps.metrics?.policyRequests.inc({ decision: `protocol-${kind}` });
        conn.refused = true;
        if (err instanceof PolicyProtocolError) queue.push(...err.requestsBefore);
        // The requests before the bad one are answered first; the bad one gets no reply.
        if (queue.length === 0 && !conn.busy) socket.destroy();
      }
      if (queue.length > 0 && !conn.busy) void drain();
    });
  }

  return {
    server,
    listen(port: number, host: string): Promise<net.AddressInfo> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as net.AddressInfo);
        });
      });
    },
    /** Stops accepting, lets requests in flight get their reply, then closes every connection. */
    async close(graceMs = 5000): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of connections) {
        conn.closeWhenIdle = true;
        if (!conn.busy) conn.socket.end();
      }
      const timer = setTimeout(() => {
        for (const conn of connections) conn.socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

export type PolicyServer = ReturnType<typeof createPolicyServer>;
