import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { normalizeClientAddress } from '../../domain/enforcement/connector-guard.ts';
import { parseRange } from '../../domain/ip-range.ts';
import type { Decision } from '../../domain/enforcement/decision.ts';
import type { RecipientCheck, SenderCheck } from '../../domain/enforcement/enforcement-service.ts';
import type { RelayIdentity } from '../../domain/relay/relay-credentials.ts';
import { createThrottledLog } from '../../domain/throttled-log.ts';
import { buildNdr, replyText, rfc5322Date, RESTRICTED_SENDER_NDR_TEXT, type NdrInput, type SmtpReply } from './ndr.ts';

export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Where accepted mail (and our NDRs) go: the smarthost. */
export interface Forwarder {
  /** Resolves once the smarthost took the message for at least one recipient, with those it refused. */
  send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<{ refused: { recipient: string; reply: SmtpReply }[] }>;
}

export interface SmtpRelayDeps {
  enforcement: { checkSender(c: SenderCheck): Promise<Decision>; checkRecipient(c: RecipientCheck): Promise<Decision> };
  credentials: { verify(username: string, password: string): Promise<RelayIdentity | undefined> };
  forwarder: Forwarder;
  /** Client networks allowed to relay without SMTP AUTH (CIDR). */
  networks: string[];
  hostname: string;
  clock: { now(): Date };
  /** AUTH without TLS; the relay offers no TLS of its own, so keep it on a trusted network. */
  allowInsecureAuth?: boolean;
  maxMessageBytes?: number;
  logger?: RelayLogger;
}

/** Failed logins a connection may have; the last one is answered 421 and the connection closed. */
const MAX_FAILED_LOGINS = 3;

interface Transaction {
  identity: RelayIdentity | undefined;
  /** Logins of this connection refused so far. */
  failedLogins: number;
  instance: string;
  /**
   * Restrictions a recipient of this transaction placed by crossing a limit (policy or service
   * limit), by id, with the end they were placed with (null: until released).
   */
  placedRestrictions: Map<string, number | null>;
}

function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** The refusal a decision stands for, as smtp-server sends it (`550 5.1.8 Access denied, …`). */
function refusal(d: Decision): Error & { responseCode: number } {
  return smtpError(d.smtpCode, `${d.enhancedCode} ${d.text}`);
}

export function networkList(networks: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const text of networks) {
    const range = parseRange(text);
    if (range) list.addSubnet(range.address, range.prefix, range.family);
  }
  return list;
}

/** The message, read to its end; once it is over the size limit the rest is read but not kept. */
function readMessage(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => {
      if (stream.sizeExceeded) chunks = [];
      else chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A name the client gave, as it may stand in a header: printable ASCII without parentheses. */
const headerSafe = (text: string): string => text.replace(/[^\x21-\x7e]|[()]/g, '?');

/**
 * The trace line every SMTP server that takes a message puts on top (RFC 5321 4.4): it shows the
 * hop in the message's headers, and lets the next server see a mail loop by counting them.
 */
function receivedLine(session: SMTPServerSession, hostname: string, at: Date): string {
  const helo = headerSafe(session.hostNameAppearsAs || 'unknown');
  const address = session.remoteAddress.replace(/^::ffff:/, '');
  const name = session.clientHostname && !session.clientHostname.startsWith('[') ? `${headerSafe(session.clientHostname)} ` : '';
  const protocol = `${session.openingCommand === 'HELO' ? 'SMTP' : 'ESMTP'}${session.user ? 'A' : ''}`;
  return `Received: from ${helo} (${name}[${address}])\r\n\tby ${hostname} (Sendguard) with ${protocol} id ${session.id};\r\n\t${rfc5322Date(at)}\r\n`;
}

/**
 * What the sender reads about a recipient the smarthost refused. A temporary refusal (4xx) ends
 * there too, as the relay keeps no queue to try again from: the sender is told to send it again.
 */
function refusedRecipientText(recipient: string, reply: SmtpReply): string {
  const returned = `Remote Server returned '${replyText(reply)}'.`;
  if (reply.code >= 500) return `Your message couldn't be delivered to ${recipient}. ${returned}`;
  return `Your message couldn't be delivered to ${recipient} for now, and it was not tried again: send it to ${recipient} again later. ${returned}`;
}

/**
 * The built-in submission relay: accepts from trusted networks or after SMTP AUTH, applies the
 * same enforcement as the policy server (sender at MAIL FROM, counting at RCPT TO), forwards
 * accepted mail to the smarthost, and returns an NDR when the sender became restricted before
 * the message could be relayed.
 */
export function createSmtpRelay(deps: SmtpRelayDeps) {
  const trusted = networkList(deps.networks);
  const sessions = new Map<string, Transaction>();
  // While the database is away every AUTH and every sender check fails alike: one line per 5 s.
  const logFailure = createThrottledLog(deps.logger);
  const client = (s: SMTPServerSession) => normalizeClientAddress(s.remoteAddress);
  const isTrusted = (s: SMTPServerSession) => {
    const c = client(s);
    return c !== undefined && trusted.check(c.address, c.family);
  };

  const check = (session: SMTPServerSession, sender: string): SenderCheck => {
    const identity = sessions.get(session.id)?.identity;
    return { sender, saslUsername: identity?.username, authenticatedTenantId: identity?.tenantId, clientAddress: client(session)?.address, via: 'smtp' };
  };

  /** A non-delivery report to `sender`, through the smarthost. */
  async function sendNdr(sender: string, failed: NdrInput['failed'], original: Buffer, arrivedAt: Date, humanText: string): Promise<void> {
    const ndr = buildNdr({ reportingMta: deps.hostname, sender, failed, original, arrivedAt, now: deps.clock.now(), humanText });
    await deps.forwarder.send({ from: '', to: [sender] }, ndr);
  }

  /**
   * Forwards the message. Recipients the smarthost refuses while taking it for the others are
   * reported to the sender in an NDR, as an MTA that accepted the message must: answering the
   * client 451 would send it to the others again.
   */
  async function relay(from: string, to: string[], raw: Buffer, arrivedAt: Date): Promise<void> {
    const { refused } = await deps.forwarder.send({ from, to }, raw);
    if (refused.length === 0) return;
    deps.logger?.warn({ sender: from, refused: refused.map((r) => `${r.recipient}: ${replyText(r.reply)}`) }, 'relay: the smarthost refused some recipients');
    // A null sender's message (a bounce, a read receipt) gets no report of its own.
    if (!from) return;
    const humanText = refused.map((r) => refusedRecipientText(r.recipient, r.reply)).join('\r\n\r\n');
    await sendNdr(from, refused, raw, arrivedAt, humanText).catch((err: unknown) => deps.logger?.error({ err, sender: from }, 'relay: could not send the NDR for recipients the smarthost refused'));
  }

  async function deliver(session: SMTPServerSession, raw: Buffer, arrivedAt: Date): Promise<void> {
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const to = session.envelope.rcptTo.map((r) => r.address);
    const now = await deps.enforcement.checkSender(check(session, from));
    if (now.verdict === 'defer') throw refusal(now);
    // Recipients accepted before the crossing one were within the limit: they get the message. A
    // restriction placed by anyone else (an admin, another message of the sender) stops it, and so
    // does this one once an admin's block has extended it.
    const placed = now.restriction && sessions.get(session.id)?.placedRestrictions.get(now.restriction.id);
    const placedHere = placed !== undefined && placed === (now.restriction?.expiresAt?.getTime() ?? null);
    if (now.verdict === 'accept' || placedHere) return relay(from, to, raw, arrivedAt);
    // A null sender (an authenticated client's read receipt, say) has no one to take an NDR: it is refused here.
    if (!from) throw refusal(now);
    // Accepted at RCPT, refused before the end of DATA: the sender learns it from an NDR.
    const reply = { code: now.smtpCode, status: now.enhancedCode, text: now.text };
    const humanText = now.enhancedCode === '5.1.8' ? RESTRICTED_SENDER_NDR_TEXT : `Your message couldn't be delivered. Remote Server returned '${replyText(reply)}'.`;
    await sendNdr(from, to.map((recipient) => ({ recipient, reply })), raw, arrivedAt, humanText);
    deps.logger?.info({ sender: from, recipients: to.length, reason: now.reason }, 'relay: sender refused before relaying; NDR sent');
  }

  /** The answer to a wrong user name or password; after a few, the connection is closed (421), so guessing costs a connection each time. */
  function failedLogin(session: SMTPServerSession): Error {
    const state = sessions.get(session.id);
    const failed = (state?.failedLogins ?? 0) + 1;
    if (state) state.failedLogins = failed;
    if (failed < MAX_FAILED_LOGINS) return smtpError(535, '5.7.8 Authentication credentials invalid');
    deps.logger?.warn({ remote: client(session)?.address, failed }, 'relay: too many failed logins; closing the connection');
    return smtpError(421, '4.7.0 Too many failed logins, closing connection');
  }

  /** Hands a decision to smtp-server: accepted, or refused with its SMTP reply. */
  function answer(decision: Promise<Decision>, callback: (err?: Error | null) => void): void {
    decision.then(
      (d) => callback(d.verdict === 'accept' ? null : refusal(d)),
      (err: unknown) => {
        logFailure({ err }, 'relay: enforcement check failed; answered 451 4.3.5');
        callback(smtpError(451, '4.3.5 Server configuration problem, try again later'));
      },
    );
  }

  const server = new SMTPServer({
    name: deps.hostname,
    banner: 'Sendguard submission relay',
    logger: false,
    authOptional: true,
    allowInsecureAuth: deps.allowInsecureAuth ?? true,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    size: deps.maxMessageBytes ?? 36_700_160,
    closeTimeout: 5_000,
    onConnect(session, callback) {
      sessions.set(session.id, { identity: undefined, failedLogins: 0, instance: randomUUID(), placedRestrictions: new Map() });
      callback();
    },
    onClose(session) {
      sessions.delete(session.id);
    },
    onAuth(auth, session, callback) {
      deps.credentials.verify(auth.username ?? '', auth.password ?? '').then(
        (identity) => {
          if (!identity) return callback(failedLogin(session));
          sessions.set(session.id, { identity, failedLogins: 0, instance: randomUUID(), placedRestrictions: new Map() });
          callback(null, { user: identity.username });
        },
        (err: unknown) => {
          logFailure({ err }, 'relay: credential check failed; answered 454 4.7.0');
          callback(smtpError(454, '4.7.0 Temporary authentication failure'));
        },
      );
    },
    onMailFrom(address, session, callback) {
      const state = sessions.get(session.id);
      if (!state?.identity && !isTrusted(session)) return callback(smtpError(530, '5.7.0 Authentication required'));
      if (state) Object.assign(state, { instance: randomUUID(), placedRestrictions: new Map() });
      answer(deps.enforcement.checkSender(check(session, address.address)), callback);
    },
    onRcptTo(address, session, callback) {
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const state = sessions.get(session.id);
      const decision = deps.enforcement.checkRecipient({ ...check(session, from), recipient: address.address, instance: `relay.${state?.instance ?? session.id}` });
      answer(
        decision.then((d) => {
          if (d.restriction?.placedNow) state?.placedRestrictions.set(d.restriction.id, d.restriction.expiresAt?.getTime() ?? null);
          return d;
        }),
        callback,
      );
    },
    onData(stream, session, callback) {
      const arrivedAt = deps.clock.now();
      readMessage(stream)
        .catch((err: unknown) => {
          // The connection ended before the message did: nothing to relay, and likely no one to answer.
          deps.logger?.info({ err, session: session.id }, 'relay: the client went away during DATA; nothing relayed');
          throw smtpError(451, '4.3.0 The message did not arrive whole, try again');
        })
        .then((raw) => {
          if (stream.sizeExceeded) throw smtpError(552, '5.3.4 Message too big');
          return deliver(session, Buffer.concat([Buffer.from(receivedLine(session, deps.hostname, arrivedAt), 'latin1'), raw]), arrivedAt);
        })
        .then(
          () => callback(),
          (err: Error & { responseCode?: number }) => {
            if (err.responseCode) return callback(err);
            deps.logger?.warn({ err }, 'relay: the smarthost did not take the message');
            callback(smtpError(451, '4.4.1 Could not relay the message now, try again later'));
          },
        );
    },
  });

  return {
    server,
    listen(port: number, host: string): Promise<net.AddressInfo> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.server.address() as net.AddressInfo);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpRelay = ReturnType<typeof createSmtpRelay>;
