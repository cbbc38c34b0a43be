import { isAscii } from 'node:buffer';
import nodemailer from 'nodemailer';
import type { SmtpReply } from './ndr.ts';
import type { Forwarder } from './smtp-relay.ts';

const ENHANCED_STATUS = /^[245]\.\d{1,3}\.\d{1,3}(?=\s|$)/;

/**
 * A reply as the smarthost sent it (`550 5.1.1 <x@y>: Recipient address rejected`), its lines
 * joined. Each line of a multi-line reply repeats the enhanced status code (RFC 2034): it is
 * kept once, in front.
 */
export function parseReply(code: number | undefined, response: string | undefined): SmtpReply {
  const lines = (response ?? '').split(/\r?\n/).map((line) => line.replace(/^\d{3}[ -]?/, '').trim());
  const status = ENHANCED_STATUS.exec(lines[0] ?? '')?.[0];
  const text = lines.map((line) => (status && ENHANCED_STATUS.exec(line)?.[0] === status ? line.slice(status.length).trim() : line)).filter(Boolean).join(' ');
  const replyCode = code ?? 451;
  return { code: replyCode, status: status ?? `${String(replyCode).charAt(0)}.0.0`, text: text || 'refused' };
}

/**
 * The smarthost refused the message (its sender, every recipient, or its content): the client
 * gets its reply as from the smarthost, `550 5.1.1 …` to bounce it, `452 4.2.2 …` to retry it.
 */
export class SmarthostRefusal extends Error {
  readonly responseCode: number;
  constructor(readonly reply: SmtpReply) {
    super(`${reply.status} ${reply.text}`);
    this.responseCode = reply.code;
  }
}

/**
 * The smarthost's refusal of the message (its sender, every recipient, or its content), for good
 * or for now, or undefined for any other failure: the connection, TLS, a `421` (which would close
 * the client's connection too), or the smarthost refusing the relay's own login (`535`) or asking
 * for one (`530`), which is the relay's configuration to fix while the client keeps the message
 * and retries.
 */
function refusalOf(err: unknown): SmarthostRefusal | undefined {
  const e = err as { responseCode?: unknown; response?: unknown; command?: unknown };
  if (typeof e.responseCode !== 'number' || e.responseCode < 400 || e.responseCode === 421 || e.responseCode === 530) return undefined;
  if (e.command !== 'MAIL FROM' && e.command !== 'RCPT TO' && e.command !== 'DATA') return undefined;
  return new SmarthostRefusal(parseReply(e.responseCode, typeof e.response === 'string' ? e.response : undefined));
}

/** Relays raw messages to the smarthost (`smtp://[user:pass@]host:port`, or `smtps://` for TLS). */
export function createSmarthostForwarder(url: string, options: { hostname: string }): Forwarder & { close(): void } {
  const target = new URL(url);
  const secure = target.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: target.hostname,
    port: Number(target.port) || (secure ? 465 : 25),
    secure,
    name: options.hostname,
    pool: true,
    maxConnections: 5,
    ...(target.username ? { auth: { user: decodeURIComponent(target.username), pass: decodeURIComponent(target.password) } } : {}),
  });
  return {
    async send(envelope, raw) {
      // An empty sender is the null reverse path of a bounce (MAIL FROM:<>). 8-bit content is
      // declared (BODY=8BITMIME), whether the client declared it or not, as an NDR never is.
      const use8BitMime = !isAscii(raw);
      const info = await transport.sendMail({ envelope: { from: envelope.from || false, to: envelope.to, use8BitMime }, raw }).catch((err: unknown) => {
        throw refusalOf(err) ?? new Error(`the smarthost did not take the message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      });
      // When some recipients are refused, the others still get the message and nodemailer resolves.
      const refused = (info.rejectedErrors ?? []).map((err) => ({
        recipient: (err as { recipient?: string }).recipient ?? '',
        reply: parseReply(err.responseCode, err.response),
      }));
      return { refused };
    },
    close: () => transport.close(),
  };
}
