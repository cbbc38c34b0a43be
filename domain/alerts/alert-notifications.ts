import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import type { AlertPolicy } from '../../db/repos/alert-policies.ts';
import {
  countNotifiedAlerts,
  insertNotifications,
  lockNotificationDay,
  principalsWithRole,
  subscribedConversationIds,
  type Alert,
  type NewNotification,
  type Notification,
} from '../../db/repos/alerts.ts';
import { findPolicyById } from '../../db/repos/outbound-spam-policies.ts';
import { findRestrictionById } from '../../db/repos/restrictions.ts';
import { nextUtcMidnight } from '../clock.ts';

/** The recipient token that stands for the tenant's Global Administrators. */
export const TENANT_ADMINS = 'TenantAdmins';
const GLOBAL_ADMINISTRATOR = 'Global Administrator';
const emailAddress = z.string().email();

export function isEmailAddress(value: string): boolean {
  return emailAddress.safeParse(value).success;
}

/**
 * The addresses a policy's recipients stand for: `TenantAdmins` expands to the principals holding
 * Global Administrator in the tenant whose id is an address (object ids cannot be mailed).
 */
export async function resolveEmailRecipients(db: Db, tenantId: string, recipients: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const recipient of recipients) {
    if (recipient.toLowerCase() === TENANT_ADMINS.toLowerCase()) {
      for (const principal of await principalsWithRole(db, tenantId, GLOBAL_ADMINISTRATOR)) if (isEmailAddress(principal)) out.add(principal);
    } else if (isEmailAddress(recipient)) {
      out.add(recipient.toLowerCase());
    }
  }
  return [...out].sort();
}

function utcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/**
 * Who the outbound spam policy that restricted a sender names to hear of it (Exchange's
 * NotifyOutboundSpamRecipients): they get the e-mail of the restriction's alert beside the alert
 * policy's own recipients, even with its e-mail off. There is no alert, and so no e-mail, while
 * the alert policy or the audit log is off. The policy is the restriction's by id, not by name:
 * one deleted since restricts no one and names no one, and another made under its name is not it.
 */
async function blockingPolicyRecipients(tx: Db, alert: Alert): Promise<string[]> {
  if (alert.kind !== 'UserRestricted' || !alert.restrictionId) return [];
  const restriction = await findRestrictionById(tx, alert.tenantId, alert.restrictionId);
  if (!restriction?.policyId) return [];
  const blocking = await findPolicyById(tx, alert.tenantId, restriction.policyId);
  return (blocking?.notifyOutboundSpamRecipients ?? []).filter(isEmailAddress).map((a) => a.toLowerCase());
}

/**
 * Writes the notifications of a new alert, in the alert's transaction: one e-mail per recipient
 * address (when the policy's e-mail is on, and to the restricting policy's notify list) and one
 * Teams message per subscribed conversation.
 * Past the policy's daily limit (per UTC day of the alert) they are written as `Suppressed`.
 */
export async function writeNotifications(tx: Db, alert: Alert, policy: AlertPolicy, now: Date): Promise<Notification[]> {
  const alertRecipients = policy.emailEnabled ? await resolveEmailRecipients(tx, alert.tenantId, policy.recipients) : [];
  const emails = [...new Set([...alertRecipients, ...(await blockingPolicyRecipients(tx, alert))])].sort();
  const conversations = await subscribedConversationIds(tx, alert.tenantId);
  if (emails.length + conversations.length === 0) return [];
  const suppressed = await overDailyLimit(tx, alert, policy);
  const base = { tenantId: alert.tenantId, alertId: alert.id, status: suppressed ? 'Suppressed' : 'Pending', nextAttemptAt: now, createdAt: now } as const;
  const rows: NewNotification[] = [
    ...emails.map((recipient) => ({ ...base, channel: 'email' as const, recipient })),
    ...conversations.map((recipient) => ({ ...base, channel: 'teams' as const, recipient })),
  ];
  return insertNotifications(tx, rows);
}

async function overDailyLimit(tx: Db, alert: Alert, policy: AlertPolicy): Promise<boolean> {
  const limit = policy.dailyNotificationLimit;
  if (limit === null) return false;
  const day = utcDay(alert.firstSeenAt);
  // Alerts of one policy are raised for many entities at once; without this lock two of them
  // could both see "one left" and both notify.
  await lockNotificationDay(tx, policy.id, day);
  return (await countNotifiedAlerts(tx, policy.id, day, nextUtcMidnight(day))) >= limit;
}
