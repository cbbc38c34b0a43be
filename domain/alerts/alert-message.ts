import type { Alert } from '../../db/repos/alerts.ts';
import { parseAlertDetails, type AlertDetails } from './alert-signals.ts';

/** An alert e-mail: the same facts and steps as plain text and as HTML. */
export interface AlertEmail {
  subject: string;
  text: string;
  html: string;
}

/** How an alert's restriction ended, when it did before its e-mail went out (a retry can be hours late). */
export interface RestrictionEnd {
  status: 'Released' | 'Expired';
  at: Date;
  /** The admin who released it (null when it ended by itself). */
  by: string | null;
  /** The entity is under a newer restriction now (which has an alert of its own). */
  restrictedAgain: boolean;
}

interface Content {
  headline: string;
  summary: string;
  facts: [label: string, value: string][];
  steps: string[];
}

const kindNames: Record<Alert['kind'], string> = {
  UserRestricted: 'User restricted from sending email',
  SendingLimitExceeded: 'Email sending limit exceeded',
  SendingLimitNearlyReached: 'Sending limit nearly reached',
};

const secureTheAccount = [
  "Review the account: its recent sign-ins, sent items, and whether the volume of mail was expected.",
  'Enable multi-factor authentication for the account.',
  "Reset the account's password and sign it out of every session.",
  'Remove forwarding and inbox rules the owner did not create.',
];

const reasonPhrases: Record<string, string> = {
  SuspectedCompromise: 'an admin found it likely compromised',
  ManualBlock: 'an admin blocked it',
  ServiceRecipientLimit: 'it reached the service limit of recipients per day',
};

function utc(value: Date | string): string {
  return `${new Date(value).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '')} UTC`;
}

function steps(alert: Alert, ended: RestrictionEnd | undefined): string[] {
  if (alert.kind === 'SendingLimitNearlyReached') {
    return ['Check with the sender whether this volume of mail is expected.', ...secureTheAccount.slice(0, 2), 'If the volume is legitimate, consider raising the limit in the outbound spam policy before the sender is stopped.'];
  }
  if (!alert.restrictionId && alert.kind === 'SendingLimitExceeded') {
    return [...secureTheAccount, 'If the volume is legitimate, consider raising the limit in the outbound spam policy.'];
  }
  if (ended) return secureTheAccount;
  const release =
    alert.entityKind === 'connector'
      ? `Then unblock the connector: with the Sendguard bot in Teams, or with the GraphQL mutation unblockConnector (connector ${alert.entityKey}).`
      : `Then unblock the sender: with the Sendguard bot in Teams, with the CLI (Remove-BlockedSenderAddress -SenderAddress ${alert.entityKey}), or with the GraphQL mutation unblockUser.`;
  return [...secureTheAccount, release];
}

function sinceEnded(ended: RestrictionEnd): string {
  return ended.status === 'Released' ? `${ended.by ? oneLine(ended.by) : 'an admin'} has since released it` : 'the restriction has since ended by itself';
}

/** What the sender can do now: send, or not under a newer restriction (of which this e-mail is not). */
function sinceThen(ended: RestrictionEnd): string {
  return ended.restrictedAgain ? '. It has been restricted again since: that restriction has an alert of its own.' : ': it can send again.';
}

function endedSentence(ended: RestrictionEnd): string {
  const since = sinceEnded(ended);
  return `${since.charAt(0).toUpperCase()}${since.slice(1)}, at ${utc(ended.at)}${sinceThen(ended)}`;
}

function summary(alert: Alert, d: AlertDetails, ended: RestrictionEnd | undefined): string {
  const limit = d.exceededLimit ? `${d.exceededLimit}${d.limitValue !== null ? ` (${d.limitValue} recipients)` : ''}` : null;
  switch (alert.kind) {
    case 'UserRestricted': {
      // An admin's block names no limit; one stored before that was so still reads as the admin's.
      const byLimit = limit && (d.reasonCode === null || d.reasonCode === 'SendingLimitExceeded' || d.reasonCode === 'ServiceRecipientLimit');
      const why = byLimit ? `it exceeded the limit ${limit}` : (reasonPhrases[d.reasonCode ?? ''] ?? `of ${d.reasonCode ?? 'an admin decision'}`);
      if (ended) return `${alert.entityKey} was restricted from sending email because ${why}. ${endedSentence(ended)}`;
      const until = d.temporary && d.expiresAt ? `until ${utc(d.expiresAt)}` : 'until an admin releases it';
      return `${alert.entityKey} can no longer send email because ${why}. It can still receive mail. The restriction lasts ${until}.`;
    }
    case 'SendingLimitExceeded': {
      const restricted = ended ? ` It was restricted, and ${sinceEnded(ended)}, at ${utc(ended.at)}${sinceThen(ended)}` : '';
      const outcome = alert.restrictionId ? restricted : ' The policy only alerts, so the sender was not restricted.';
      return `${alert.entityKey} exceeded the limit ${limit ?? 'of its outbound spam policy'}.${outcome}`;
    }
    case 'SendingLimitNearlyReached':
      return `${alert.entityKey} has used ${d.thresholdPercent ?? 'most'}${d.thresholdPercent !== null ? ' %' : ''} of the limit ${limit ?? ''}. When the limit is reached the outbound spam policy's action applies.`;
  }
}

function facts(alert: Alert, d: AlertDetails, ended: RestrictionEnd | undefined): [string, string][] {
  const out: [string, string][] = [
    [alert.entityKind === 'connector' ? 'Connector' : 'Sender', alert.entityKey],
    ['Alert', `${kindNames[alert.kind]} (severity ${alert.severity})`],
    ['When', utc(alert.firstSeenAt)],
  ];
  if (d.extendedAt) out.push(['Extended', `${utc(d.extendedAt)}${d.actorName ? ` by ${oneLine(d.actorName)}` : ''}`]);
  if (ended?.status === 'Released') out.push(['Released', `${utc(ended.at)}${ended.by ? ` by ${oneLine(ended.by)}` : ''}`]);
  if (ended?.status === 'Expired') out.push(['Ended', `${utc(ended.at)}, by itself`]);
  if (alert.hitCount > 1) out.push(['Seen', `${alert.hitCount} times, last at ${utc(alert.lastSeenAt)}`]);
  if (d.exceededLimit) out.push(['Limit', `${d.exceededLimit}${d.limitValue !== null ? ` = ${d.limitValue} recipients` : ''}`]);
  if (d.count !== null) out.push(['Counted', `${d.count} recipients`]);
  out.push(['Recipients', `${d.internalRecipientCount} internal, ${d.externalRecipientCount} external`]);
  if (d.policyName) out.push(['Policy', d.policyName]);
  if (d.reasonCode) out.push(['Reason', d.reasonCode]);
  const note = d.restrictionDetails === null ? '' : oneLine(d.restrictionDetails);
  if (note) out.push(['Details', note]);
  out.push(['Alert id', alert.id]);
  return out;
}

/**
 * An admin's free text, or name (from their token), as one line: line breaks and other control
 * characters (which could make it read as more facts or steps in the plain text) become spaces,
 * and bidirectional overrides (which could make it read as other text) go.
 */
function oneLine(value: string): string {
  return value
    .replace(/[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[\p{Cc}\u2028\u2029\s]+/gu, ' ')
    .trim();
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderText(c: Content): string {
  const width = Math.max(...c.facts.map(([label]) => label.length)) + 1;
  return [
    c.headline,
    '',
    c.summary,
    '',
    ...c.facts.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`),
    '',
    'What to do:',
    ...c.steps.map((s, i) => `${i + 1}. ${s}`),
    '',
    '-- Sendguard',
    '',
  ].join('\n');
}

function renderHtml(c: Content): string {
  const rows = c.facts.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('');
  const items = c.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('');
  return (
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2>${escapeHtml(c.headline)}</h2><p>${escapeHtml(c.summary)}</p>` +
    `<table cellpadding="4">${rows}</table><h3>What to do</h3><ol>${items}</ol><p>Sendguard</p></body></html>`
  );
}

/**
 * The e-mail for an alert, with who, what happened, the limit and counts, when, and what to do;
 * `ended`: how its restriction ended, if it did before the e-mail went out.
 */
export function composeAlertEmail(alert: Alert, ended?: RestrictionEnd): AlertEmail {
  const details = parseAlertDetails(alert.details);
  const headline = ended ? `${alert.title} (${ended.status === 'Released' ? 'released' : 'ended'} since)` : alert.title;
  const content: Content = { headline, summary: summary(alert, details, ended), facts: facts(alert, details, ended), steps: steps(alert, ended) };
  return { subject: `[${alert.severity}] ${headline}`, text: renderText(content), html: renderHtml(content) };
}
