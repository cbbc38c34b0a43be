import net from 'node:net';

/** Attributes as Postfix 3.7 sends them at the RCPT stage (a subset plus the ones we read). */
export function rcptRequest(attrs: { sender: string; recipient: string; instance?: string; sasl_username?: string; client_address?: string; protocol_state?: string }): Record<string, string> {
  return {
    request: 'smtpd_access_policy',
    protocol_state: attrs.protocol_state ?? 'RCPT',
    protocol_name: 'ESMTP',
    client_address: attrs.client_address ?? '127.0.0.1',
    client_name: 'localhost',
    reverse_client_name: 'localhost',
    helo_name: 'client.test',
    sender: attrs.sender,
    recipient: attrs.recipient,
    recipient_count: '0',
    queue_id: '',
    instance: attrs.instance ?? `${Math.random().toString(16).slice(2, 8)}.1.0`,
    size: '0',
    etrn_domain: '',
    stress: '',
    sasl_method: attrs.sasl_username ? 'PLAIN' : '',
    sasl_username: attrs.sasl_username ?? '',
    sasl_sender: '',
    ccert_subject: '',
    ccert_issuer: '',
    ccert_fingerprint: '',
    encryption_protocol: '',
    encryption_cipher: '',
    encryption_keysize: '0',
    policy_context: '',
    compatibility_level: '3.6',
    mail_version: '3.7.11',
  };
}

export function encodeRequest(attrs: Record<string, string>): string {
  return `${Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join('\n')}\n\n`;
}

/** A persistent policy connection, as Postfix keeps one: one request at a time. */
export class PolicyClient {
  private buffer = '';
  private waiters: ((reply: string) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
        const reply = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.waiters.shift()?.(reply);
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static connect(port: number): Promise<PolicyClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new PolicyClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The next reply block (`action=…`), or 'closed' when the server closes first. */
  nextReply(): Promise<string> {
    return Promise.race([new Promise<string>((resolve) => this.waiters.push(resolve)), this.closed.then(() => 'closed')]);
  }

  /** Sends a request and resolves with the action text (after `action=`). */
  async ask(attrs: Record<string, string>): Promise<string> {
    const reply = this.nextReply();
    this.socket.write(encodeRequest(attrs));
    const text = await reply;
    if (text === 'closed') throw new Error('policy server closed the connection');
    if (!text.startsWith('action=')) throw new Error(`unexpected reply ${text}`);
    return text.slice('action='.length);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}
