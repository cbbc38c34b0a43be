/** What a transport (policy server, SMTP relay) does with a sender or recipient. */
export type Verdict = 'accept' | 'defer' | 'reject';

export type DecisionReason =
  | 'accepted'
  | 'duplicate'
  | 'over-limit-alert'
  | 'not-outbound'
  | 'unknown-sender'
  | 'restricted'
  | 'limit-restricted'
  | 'service-limit'
  | 'too-many-recipients'
  | 'rate-limited'
  | 'connector-restricted'
  | 'sender-not-permitted'
  | 'database-unavailable';

/** A transport-neutral answer: the SMTP reply a client should get, and why. */
export interface Decision {
  verdict: Verdict;
  smtpCode: number;
  enhancedCode: string;
  text: string;
  reason: DecisionReason;
  /**
   * The restriction a refusal of the sender stands for; `placedNow` when this very recipient
   * crossed a limit and restricted its sender, rather than finding it restricted. `expiresAt`
   * changes when an admin's block extends it (null: until released).
   */
  restriction?: { id: string; placedNow: boolean; expiresAt: Date | null };
}

export const OUTBOUND_SENDER_REFUSED_TEXT = 'Access denied, bad outbound sender';

export function accept(reason: DecisionReason): Decision {
  return { verdict: 'accept', smtpCode: 250, enhancedCode: '2.0.0', text: 'OK', reason };
}

export function refusedOutboundSender(reason: 'restricted' | 'limit-restricted'): Decision {
  return { verdict: 'reject', smtpCode: 550, enhancedCode: '5.1.8', text: OUTBOUND_SENDER_REFUSED_TEXT, reason };
}

export function serviceLimitReached(limit: number, clearsAt: Date | null): Decision {
  const when = clearsAt ? `at ${clearsAt.toISOString().slice(0, 16)}Z` : 'within 24 hours';
  return {
    verdict: 'reject',
    smtpCode: 550,
    enhancedCode: '5.2.0',
    text: `Sender exceeded the service limit of ${limit} recipients in 24 hours; this clears by itself ${when}`,
    reason: 'service-limit',
  };
}

export const connectorRefused: Decision = {
  verdict: 'reject',
  smtpCode: 550,
  enhancedCode: '5.7.711',
  text: 'Access denied, bad inbound connector',
  reason: 'connector-restricted',
};

export const unknownSenderRefused: Decision = {
  verdict: 'reject',
  smtpCode: 550,
  enhancedCode: '5.7.750',
  text: 'Service unavailable. Client blocked from sending from unregistered domains',
  reason: 'unknown-sender',
};

export const senderNotPermitted: Decision = {
  verdict: 'reject',
  smtpCode: 550,
  enhancedCode: '5.7.60',
  text: 'Client does not have permissions to send as this sender',
  reason: 'sender-not-permitted',
};

export const tooManyRecipients: Decision = { verdict: 'defer', smtpCode: 452, enhancedCode: '4.5.3', text: 'Too many recipients', reason: 'too-many-recipients' };

export const rateLimited: Decision = {
  verdict: 'defer',
  smtpCode: 451,
  enhancedCode: '4.7.0',
  text: 'Too many messages from this sender in the last minute, try again later',
  reason: 'rate-limited',
};

export const databaseUnavailable: Decision = {
  verdict: 'defer',
  smtpCode: 451,
  enhancedCode: '4.3.5',
  text: 'Server configuration problem, try again later',
  reason: 'database-unavailable',
};

/** `550 5.1.8 Access denied, bad outbound sender` */
export function replyLine(d: Decision): string {
  return `${d.smtpCode} ${d.enhancedCode} ${d.text}`;
}
