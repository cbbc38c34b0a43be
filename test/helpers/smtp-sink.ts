import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** What MAIL FROM declared: `BODY=8BITMIME` or not (`7bit`), and SMTPUTF8. */
  declared: { body: string; smtpUtf8: boolean };
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:port */
  url: string;
  port: number;
  /** Every message accepted so far, across restarts when `messages` is handed back in. */
  messages: ReceivedMail[];
  /** Resolves once `count` messages have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Listen on this port (to restart a stopped sink where clients expect it); default: any free port. */
  port?: number;
  /** Recipients answered with `550 5.1.1` at RCPT TO. */
  rejectRecipients?: string[];
  /** Messages to these recipients are taken at RCPT TO, then refused with `550 5.7.1` at the end of DATA (a content filter). */
  rejectMessagesTo?: string[];
  /** Recipients answered with `452 4.2.2` (mailbox full, a temporary failure) at RCPT TO. */
  deferRecipients?: string[];
  /** Keep appending to this list (a restarted sink). */
  messages?: ReceivedMail[];
  /** Largest message taken, announced as `SIZE` (default: no limit). */
  size?: number;
  /** Require SMTP AUTH with this user name and password (anything else gets `535 5.7.8`). */
  login?: { username: string; password: string };
}

/** A real SMTP server on 127.0.0.1 that accepts mail and records it, parsed. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages = options.messages ?? [];
  const rejected = new Set((options.rejectRecipients ?? []).map((r) => r.toLowerCase()));
  const filtered = new Set((options.rejectMessagesTo ?? []).map((r) => r.toLowerCase()));
  const deferred = new Set((options.deferRecipients ?? []).map((r) => r.toLowerCase()));
  const login = options.login;
  const server = new SMTPServer({
    authOptional: !login,
    ...(options.size ? { size: options.size, rejectOversized: true } : {}),
    allowInsecureAuth: true,
    disabledCommands: login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      if (auth.username === login?.username && auth.password === login?.password) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (rejected.has(address.address.toLowerCase())) {
        const err = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
        return callback(err);
      }
      if (deferred.has(address.address.toLowerCase())) return callback(Object.assign(new Error('4.2.2 Mailbox full, try again later'), { responseCode: 452 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        // Refused with 552 by smtp-server itself (rejectOversized): not taken.
        if (stream.sizeExceeded) return callback();
        if (session.envelope.rcptTo.some((r) => filtered.has(r.address.toLowerCase()))) {
          return callback(Object.assign(new Error('5.7.1 Message rejected as spam by content filter'), { responseCode: 550 }));
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const declared = { body: session.envelope.bodyType ?? '7bit', smtpUtf8: session.envelope.smtpUtf8 ?? false };
            messages.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, declared, raw, parsed });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages at the SMTP sink, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return messages;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
