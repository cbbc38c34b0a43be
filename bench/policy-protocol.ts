import net from 'node:net';

/** What a Postfix smtpd would do with a policy reply at RCPT time. */
export type ActionClass = 'accepted' | 'deferred' | 'refused' | 'other';

export interface RcptRequest {
  readonly sender: string;
  readonly recipient: string;
  readonly instance: string;
  readonly queueId: string;
  readonly size: number;
  readonly clientIndex: number;
  readonly saslUsername: string;
}

/** The attributes Postfix 3.7 sends for `check_policy_service` at the RCPT stage, in its order. */
export function formatRcptRequest(r: RcptRequest): string {
  const client = `mua${r.clientIndex}.clients.bench.test`;
  const attrs: ReadonlyArray<readonly [string, string | number]> = [
    ['request', 'smtpd_access_policy'], ['protocol_state', 'RCPT'], ['protocol_name', 'ESMTP'],
    ['helo_name', client], ['queue_id', r.queueId], ['sender', r.sender], ['recipient', r.recipient],
    ['recipient_count', 0], ['client_address', `192.0.2.${(r.clientIndex % 254) + 1}`],
    ['client_name', client], ['reverse_client_name', client], ['instance', r.instance],
    ['sasl_method', r.saslUsername === '' ? '' : 'PLAIN'], ['sasl_username', r.saslUsername],
    ['sasl_sender', ''], ['size', r.size], ['ccert_subject', ''], ['ccert_issuer', ''],
    ['ccert_fingerprint', ''], ['ccert_pubkey_fingerprint', ''], ['encryption_protocol', 'TLSv1.3'],
    ['encryption_cipher', 'TLS_AES_256_GCM_SHA384'], ['encryption_keysize', 256], ['etrn_domain', ''],
    ['stress', ''], ['compatibility_level', '3.6'], ['mail_version', '3.7.11'],
    ['client_port', 40000 + (r.clientIndex % 20000)], ['policy_context', ''],
    ['server_address', '127.0.0.1'], ['server_port', 587],
  ];
  return `${attrs.map(([k, v]) => `${k}=${v}`).join('\n')}\n\n`;
}

/** Classifies the text after `action=` the way smtpd acts on it for the recipient. */
export function classifyAction(action: string): ActionClass {
  const word = action.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? '';
  if (word === 'dunno' || word === 'ok' || word === 'permit') return 'accepted';
  if (/^4\d\d$/.test(word) || word.startsWith('defer')) return 'deferred';
  if (/^5\d\d$/.test(word) || word === 'reject') return 'refused';
  return 'other';
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Refuses anything but loopback so a load run can never hit a remote server. */
export function assertLoopback(host: string): void {
  const ok = LOOPBACK_NAMES.has(host) || (net.isIPv4(host) && host.startsWith('127.'));
  if (!ok) throw new Error(`policy load: only loopback targets are allowed, got "${host}"`);
}

/** One persistent policy connection; one request in flight at a time, as Postfix does. */
export class PolicyConnection {
  private buffer = '';
  private waiter: { resolve: (action: string) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket, private readonly timeoutMs: number) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('policy server closed the connection')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<PolicyConnection> {
    assertLoopback(host);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new PolicyConnection(socket, timeoutMs));
      });
    });
  }

  /** Sends one request and resolves with the reply's action text. */
  ask(request: string): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('policy load: request already in flight'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiter = {
        resolve: (a) => { clearTimeout(timer); resolve(a); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.socket.write(request);
    });
  }

  close(): void {
    this.failure ??= new Error('connection closed by the load generator');
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    const end = this.buffer.indexOf('\n\n');
    if (end < 0) return;
    const reply = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 2);
    const waiter = this.waiter;
    this.waiter = undefined;
    const line = reply.split('\n').find((l) => l.startsWith('action='));
    if (!waiter) return this.fail(new Error(`unsolicited reply: ${reply}`));
    if (line === undefined) return waiter.reject(new Error(`reply without action: ${reply}`));
    waiter.resolve(line.slice('action='.length));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(e);
    this.socket.destroy();
  }
}
