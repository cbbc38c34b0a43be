import type { ReasonCode, RecommendationKind, RestrictionStatus, ThresholdAction } from './types.ts';

/** How cards put times, numbers and codes into words an Exchange admin recognises. */

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-26 14:03 UTC` */
export function formatUtc(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a date: ${String(iso)}`);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** `2 h 5 min`, `3 days`, `less than a minute` */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day' : `${days} days`;
}

/** `3 h ago` for the past, `in 9 h 57 min` for the future, both relative to `now`. */
export function formatRelative(iso: string, now: Date): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (Math.abs(ms) < 60_000) return 'just now';
  return ms < 0 ? `${formatDuration(ms)} ago` : `in ${formatDuration(ms)}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export const reasonCodeLabels: Record<ReasonCode, string> = {
  SendingLimitExceeded: 'Email sending limit exceeded',
  ServiceRecipientLimit: 'Service recipient limit reached',
  SuspectedCompromise: 'Suspected compromised account',
  ManualBlock: 'Restricted by an admin',
};

export const statusLabels: Record<RestrictionStatus, string> = {
  RESTRICTED: 'Restricted',
  RELEASED: 'Released',
  EXPIRED: 'Expired',
};

interface LimitLabel {
  name: string;
  unit: string;
}

/** The outbound spam policy settings by their Exchange names. */
const limitLabels: Record<string, LimitLabel> = {
  RecipientLimitExternalPerHour: { name: 'External message limit', unit: 'recipients per hour' },
  RecipientLimitInternalPerHour: { name: 'Internal message limit', unit: 'recipients per hour' },
  RecipientLimitPerDay: { name: 'Daily message limit', unit: 'recipients per day' },
  ServiceRecipientsPerDay: { name: 'Service limit', unit: 'recipients per 24 hours' },
};

/** `External message limit: 100 recipients per hour` */
export function describeLimit(exceededLimit: string | null, limitValue: number | null): string | null {
  if (!exceededLimit) return null;
  const label = limitLabels[exceededLimit] ?? { name: exceededLimit, unit: 'recipients' };
  return limitValue === null ? label.name : `${label.name}: ${formatCount(limitValue)} ${label.unit}`;
}

export const thresholdActionLabels: Record<ThresholdAction, string> = {
  BlockUserForToday: 'Restrict the user from sending mail until the following day',
  BlockUser: 'Restrict the user from sending mail',
  Alert: 'No action, alert only',
};

/** A policy limit, where 0 means the service default. */
export function describePolicyLimit(value: number, serviceDefault: number, unit: string): string {
  return value === 0 ? `${formatCount(serviceDefault)} ${unit} (service default)` : `${formatCount(value)} ${unit}`;
}

/** What the admin confirms for each recommendation, in the words the result card repeats. */
export const acknowledgementLabels: Record<RecommendationKind, string> = {
  ENABLE_MFA: 'Multi-factor authentication is on',
  RESET_PASSWORD: 'The password is reset',
  REVOKE_SESSIONS: 'All sessions are revoked',
  REMOVE_FORWARDING_AND_INBOX_RULES: 'Forwarding and inbox rules are checked',
  REVIEW_SIGN_INS: 'Recent sign-ins are reviewed',
};

/** Caps free text from data so that no card can outgrow Teams' message size. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}
