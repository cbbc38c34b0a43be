import net from 'node:net';
import type { Decision } from '../../domain/enforcement/decision.ts';
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
  enforcement: { checkRecipient(check: RecipientCheck): Promise<Decision> };
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

/** Postfix attributes → a recipient check. Only the RCPT stage is checked and counted. */
async function decide(deps: PolicyServerDeps, request: PolicyRequest): Promise<{ action: string; label: string }> {
  const state = (request.get('protocol_state') ?? '').toUpperCase();
  const kind = request.get('request');
  if (state !== 'RCPT' || (kind !== undefined && kind !== 'smtpd_access_policy')) return { action: 'DUNNO', label: 'not-rcpt' };
  // Enforcement remembers senders, messages and recipients for minutes: it gets strings of their own.
  const value = (name: string): string => ownString(request.get(name) ?? '');
  const decision = await deps.enforcement.checkRecipient({
    sender: value('sender'),
    recipient: value('recipient'),
    saslUsername: value('sasl_username') || undefined,
    clientAddress: value('client_address') || undefined,
    instance: value('instance') || undefined,
    via: 'policy',
  });
  if (decision.verdict !== 'accept') {
    deps.logger?.info({ sender: request.get('sender'), recipient: request.get('recipient'), reason: decision.reason }, `policy: ${toPolicyAction(decision)}`);
  }
  return { action: toPolicyAction(decision), label: decision.reason };
}

interface Connection {
  socket: net.Socket;
  busy: boolean;
  closeWhenIdle: boolean;
}

/**
 * The Postfix policy delegation server: persistent connections, one request at a time per
 * connection, replies in request order. A malformed or oversized request closes only its own
 * connection, without a reply, as the protocol requires.
 */
export function createPolicyServer(deps: PolicyServerDeps) {
  const limits = deps.limits ?? defaultProtocolLimits;
  const connections = new Set<Connection>();
  const server = net.createServer((socket) => serve(socket));

  async function answer(request: PolicyRequest): Promise<string> {
    const started = process.hrtime.bigint();
    const { action, label } = await decide(deps, request);
    deps.metrics?.policyRequests.inc({ decision: label });
    deps.metrics?.policyLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return action;
  }

  function serve(socket: net.Socket): void {
    const conn: Connection = { socket, busy: false, closeWhenIdle: false };
    connections.add(conn);
    const reader = new PolicyRequestReader(limits);
    const queue: PolicyRequest[] = [];
    socket.setNoDelay(true);
    socket.setTimeout(deps.idleTimeoutMs ?? 600_000, () => socket.destroy());
    socket.on('error', (err) => deps.logger?.debug({ err }, 'policy connection error'));
    socket.on('close', () => connections.delete(conn));

    async function drain(): Promise<void> {
      conn.busy = true;
      socket.pause();
      for (let request = queue.shift(); request && !socket.destroyed; request = queue.shift()) {
        try {
          const action = await answer(request);
          if (!socket.destroyed) socket.write(formatReply(action));
        } catch (err) {
          // No reply on trouble: Postfix logs it and applies its default_action.
          deps.logger?.warn({ err }, 'policy request failed; closing the connection');
          socket.destroy();
        }
      }
      conn.busy = false;
      if (conn.closeWhenIdle) socket.end();
      else socket.resume();
    }

    socket.on('data', (chunk: Buffer) => {
      try {
        queue.push(...reader.push(chunk));
      } catch (err) {
        const kind = err instanceof PolicyProtocolError ? err.kind : 'malformed';
        deps.logger?.warn({ kind, remote: socket.remoteAddress, detail: (err as Error).message }, 'policy request refused; closing the connection');
        deps.metrics?.policyRequests.inc({ decision: `protocol-${kind}` });
        socket.destroy();
        return;
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
