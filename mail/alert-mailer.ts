import type { Transporter } from 'nodemailer';
import type { Alert } from '../db/repos/alerts.ts';
import { composeAlertEmail, type RestrictionEnd } from '../domain/alerts/alert-message.ts';
import { PermanentDeliveryError } from '../domain/alerts/errors.ts';
import type { NotificationDeliverer } from '../domain/alerts/notification-worker.ts';

export interface AlertMailerOptions {
  /** smtp://host:port (or smtps://, with user:password@ when the server wants AUTH). */
  smtpUrl: string;
  from: string;
  /** How the alert's restriction ended, if it has: asked at each attempt, so a late e-mail tells the truth. */
  restrictionEnd(alert: Alert): Promise<RestrictionEnd | undefined>;
}

/** The Message-ID of a notification's e-mail: the same on every attempt, so receivers can drop a duplicate. */
export function notificationMessageId(notificationId: string, from: string): string {
  const domain = from.split('@')[1] ?? 'sendguard.invalid';
  return `<alert-notification.${notificationId}@${domain}>`;
}

type SmtpError = Error & { code?: unknown; command?: unknown; responseCode?: unknown };

const isPermanent = (e: SmtpError): boolean => typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;

function isRejectedRecipient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as SmtpError;
  return e.code === 'EENVELOPE' && e.command === 'RCPT TO' && isPermanent(e);
}

/** A 5xx for the message itself (a content filter at the end of DATA): sending it again gets the same answer. */
function isRejectedMessage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as SmtpError;
  return e.code === 'EMESSAGE' && e.command === 'DATA' && isPermanent(e);
}

/**
 * E-mail delivery of alert notifications over SMTP. Resolves once the server accepted the
 * message; a 5xx refusal of the recipient or of the message is permanent, everything else
 * (outage, 4xx, a refused sender or login, which a change of settings mends) is retried.
 */
export function createAlertMailer(options: AlertMailerOptions): { deliver: NotificationDeliverer; close(): void } {
  // nodemailer is loaded with the first notification: most processes never send one.
  let transport: Promise<Transporter> | undefined;
  const transportOf = (): Promise<Transporter> =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      // Timeouts stay well below the worker's lease, so a slow server cannot make two workers send.
      nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 }),
    ));
  const deliver: NotificationDeliverer = async (notification, alert) => {
    const email = composeAlertEmail(alert, await options.restrictionEnd(alert));
    const smtp = await transportOf();
    try {
      await smtp.sendMail({
        from: options.from,
        to: notification.recipient,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: notificationMessageId(notification.id, options.from),
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Sendguard-Alert-Id': alert.id },
      });
    } catch (err) {
      if (isRejectedRecipient(err)) throw new PermanentDeliveryError(`${notification.recipient} was refused: ${(err as Error).message}`);
      if (isRejectedMessage(err)) throw new PermanentDeliveryError(`the message to ${notification.recipient} was refused: ${(err as Error).message}`);
      throw err;
    }
  };
  return { deliver, close: () => void transport?.then((t) => t.close()) };
}
