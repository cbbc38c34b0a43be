import nodemailer from 'nodemailer';
import type { SmtpReply } from './ndr.ts';
import type { Forwarder } from './smtp-relay.ts';

/** A reply as the smarthost sent it (`550 5.1.1 <x@y>: Recipient address rejected`), its lines joined. */
export function parseReply(code: number | undefined, response: string | undefined): SmtpReply {
  const text = (response ?? '').split(/\r?\n/).map((line) => line.replace(/^\d{3}[ -]?/, '').trim()).filter(Boolean).join(' ');
  const replyCode = code ?? 451;
  const status = /^[245]\.\d{1,3}\.\d{1,3}(?=\s|$)/.exec(text)?.[0];
  return { code: replyCode, status: status ?? `${String(replyCode).charAt(0)}.0.0`, text: (status ? text.slice(status.length).trim() : text) || 'refused' };
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
      // An empty sender is the null reverse path of a bounce (MAIL FROM:<>).
      const info = await transport.sendMail({ envelope: { from: envelope.from || false, to: envelope.to }, raw });
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
