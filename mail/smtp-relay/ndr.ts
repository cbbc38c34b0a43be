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

/** RFC 5322 date in UTC, e.g. `Thu, 26 Nov 2026 10:00:30 +0000`. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * A non-delivery report (RFC 3464 multipart/report, report-type=delivery-status): the
 * human-readable part, the machine-readable delivery status per recipient, and the original
 * message's headers.
 */
export function buildNdr(input: NdrInput): Buffer {
  const boundary = `=_sendguard_${randomBytes(12).toString('hex')}`;
  const originalHeaders = headerSection(input.original);
  const subject = headerValue(originalHeaders, 'Subject');
  const originalId = headerValue(originalHeaders, 'Message-ID');
  const perRecipient = input.failed.map(({ recipient, reply }) =>
    [`Final-Recipient: rfc822; ${recipient}`, 'Action: failed', `Status: ${reply.status}`, `Diagnostic-Code: smtp; ${replyText(reply)}`].join('\r\n'),
  );
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.sender}>`,
    `Subject: Undeliverable: ${subject ?? '(no subject)'}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <ndr.${randomBytes(8).toString('hex')}@${input.reportingMta}>`,
    ...(originalId ? [`In-Reply-To: ${originalId}`, `References: ${originalId}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a delivery status notification in MIME format.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
    input.humanText,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${rfc5322Date(input.arrivedAt)}`,
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    originalHeaders,
    '',
    `--${boundary}--`,
    '',
  ];
  // latin1 both ways keeps the original header bytes as they were, 8-bit or not.
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
