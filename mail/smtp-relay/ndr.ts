import { randomBytes } from 'node:crypto';

/** The reference wording (Exchange Online Protection's restricted-sender NDR). */
export const RESTRICTED_SENDER_NDR_TEXT =
  "Your message couldn't be delivered because you weren't recognized as a valid sender. The most common reason for this is that your email address is suspected of sending spam and it's no longer allowed to send email. Contact your email admin for assistance. Remote Server returned '550 5.1.8 Access denied, bad outbound sender'.";

/** An SMTP reply: `550 5.1.8 Access denied, bad outbound sender`. */
export interface SmtpReply {
  code: number;
  status: string;
  text: string;
}

export const replyText = (r: SmtpReply): string => `${r.code} ${r.status} ${r.text}`;

export interface NdrInput {
  /** This relay's host name (Reporting-MTA, Message-ID, MAILER-DAEMON address). */
  reportingMta: string;
  /** The envelope sender the report goes back to. */
  sender: string;
  /** The recipients the message did not reach, each with the reply that refused it. */
  failed: { recipient: string; reply: SmtpReply }[];
  /** The original message, whose header section is returned with the report. */
  original: Buffer;
  arrivedAt: Date;
  now: Date;
  humanText: string;
}

/** The header section of a message (everything before the first empty line). */
export function headerSection(message: Buffer): string {
  const text = message.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return (end === -1 ? text : text.slice(0, end)).replace(/\r?\n/g, '\r\n');
}

function headerValue(headers: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(headers);
  return match?.[1]?.replace(/\r\n[ \t]+/g, ' ').trim();
}

const NON_ASCII = /[\u0080-\uffff]/;

/** Text as its UTF-8 bytes, one latin1 character per byte, to sit beside the original's raw header bytes. */
const utf8Bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/**
 * A recipient as Final-Recipient names it: `rfc822` for an ASCII address; an SMTPUTF8 address
 * takes RFC 6533's `utf-8` type in its unitext form, where "\", "+", "=", space and controls are
 * written `\x{HEX}`.
 */
function recipientField(address: string): string {
  if (!NON_ASCII.test(address)) return `rfc822; ${address}`;
  // eslint-disable-next-line no-control-regex
  const unitext = address.replace(/[\x00-\x20\x7f+=\\]/g, (c) => `\\x{${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}}`);
  return `utf-8; ${unitext}`;
}

/**
 * An 8-bit header text (UTF-8 bytes, one latin1 character per byte) as RFC 2047 encoded words,
 * folded, so that the report's own header section stays ASCII and needs no SMTPUTF8 to travel.
 * Eleven code points are at most 44 bytes: each word stays within the 75 characters allowed.
 */
function headerText(bytes: string): string {
  if (!NON_ASCII.test(bytes)) return bytes;
  const points = [...Buffer.from(bytes, 'latin1').toString('utf8')];
  const words: string[] = [];
  for (let i = 0; i < points.length; i += 11) words.push(`=?UTF-8?B?${Buffer.from(points.slice(i, i + 11).join(''), 'utf8').toString('base64')}?=`);
  return words.join('\r\n ');
}

/** RFC 5322 date in UTC, e.g. `Thu, 26 Nov 2026 10:00:30 +0000`. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * A non-delivery report (RFC 3464 multipart/report, report-type=delivery-status): the
 * human-readable part, the machine-readable delivery status per recipient, and the original
 * message's headers. A status naming an SMTPUTF8 address (or quoting a non-ASCII reply) is a
 * message/global-delivery-status, and 8-bit original headers are message/global-headers (RFC 6533).
 */
export function buildNdr(input: NdrInput): Buffer {
  const boundary = `=_sendguard_${randomBytes(12).toString('hex')}`;
  const originalHeaders = headerSection(input.original);
  const subject = headerValue(originalHeaders, 'Subject');
  const originalId = headerValue(originalHeaders, 'Message-ID');
  const perRecipient = input.failed.map(({ recipient, reply }) =>
    [`Final-Recipient: ${recipientField(recipient)}`, 'Action: failed', `Status: ${reply.status}`, `Diagnostic-Code: smtp; ${replyText(reply)}`].join('\r\n'),
  ).join('\r\n\r\n');
  const statusType = NON_ASCII.test(perRecipient) ? 'global-delivery-status' : 'delivery-status';
  const humanIsAscii = !NON_ASCII.test(input.humanText);
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${utf8Bytes(input.sender)}>`,
    `Subject: Undeliverable: ${headerText(subject ?? '(no subject)')}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <ndr.${randomBytes(8).toString('hex')}@${input.reportingMta}>`,
    ...(originalId ? [`In-Reply-To: ${originalId}`, `References: ${originalId}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${statusType}; boundary="${boundary}"`,
    '',
    'This is a delivery status notification in MIME format.',
    '',
    `--${boundary}`,
    humanIsAscii ? 'Content-Type: text/plain; charset=us-ascii' : 'Content-Type: text/plain; charset=utf-8',
    humanIsAscii ? 'Content-Transfer-Encoding: 7bit' : 'Content-Transfer-Encoding: 8bit',
    '',
    utf8Bytes(input.humanText),
    '',
    `--${boundary}`,
    `Content-Type: message/${statusType}`,
    ...(statusType === 'delivery-status' ? [] : ['Content-Transfer-Encoding: 8bit']),
    '',
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${rfc5322Date(input.arrivedAt)}`,
    '',
    utf8Bytes(perRecipient),
    '',
    `--${boundary}`,
    ...(NON_ASCII.test(originalHeaders) ? ['Content-Type: message/global-headers', 'Content-Transfer-Encoding: 8bit'] : ['Content-Type: text/rfc822-headers']),
    '',
    originalHeaders,
    '',
    `--${boundary}--`,
    '',
  ];
  // latin1 both ways keeps the original header bytes as they were, 8-bit or not.
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
