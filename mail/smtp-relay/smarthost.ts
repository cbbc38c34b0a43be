import nodemailer from 'nodemailer';
import type { Forwarder } from './smtp-relay.ts';

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
      await transport.sendMail({ envelope: { from: envelope.from || false, to: envelope.to }, raw });
    },
    close: () => transport.close(),
  };
}
