import net from 'node:net';

/** A raw SMTP conversation, one command and its (possibly multi-line) reply at a time. */
export class SmtpDialog {
  private buffer = '';
  private waiter: ((reply: string) => void) | undefined;
  /** Resolves once the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.flush();
    });
  }

  private flush(): void {
    const lines = this.buffer.split('\r\n');
    const last = lines.findIndex((l) => /^\d{3} /.test(l));
    if (last === -1 || !this.waiter) return;
    const reply = lines.slice(0, last + 1).join('\n');
    this.buffer = lines.slice(last + 1).join('\r\n');
    const resolve = this.waiter;
    this.waiter = undefined;
    resolve(reply);
  }

  static async open(port: number): Promise<{ dialog: SmtpDialog; greeting: string }> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const dialog = new SmtpDialog(socket);
    return { dialog, greeting: await dialog.reply() };
  }

  private reply(): Promise<string> {
    const next = new Promise<string>((resolve) => (this.waiter = resolve));
    this.flush();
    return next;
  }

  /** Sends one line (or a DATA body ending in CRLF.CRLF) and resolves with the reply's last line. */
  async send(line: string): Promise<string> {
    return (await this.exchange(line)).split('\n').pop() ?? '';
  }

  /** As `send`, resolving with every line of the reply (an EHLO's extensions), joined by LF. */
  exchange(line: string): Promise<string> {
    const reply = this.reply();
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}
