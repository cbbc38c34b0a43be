import type { Db } from '../../db/client.ts';
import { findAlertPoliciesByIds, findAlertPolicy, listAlertPolicies, updateAlertPolicy, type AlertPolicy, type AlertPolicyPatch } from '../../db/repos/alert-policies.ts';
import { getTenantSettings } from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../clock.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { isEmailAddress, TENANT_ADMINS } from './alert-notifications.ts';
import { AlertPolicyNotFoundError } from './errors.ts';

/** The daily notification limits an admin may choose; null = no limit. */
export const dailyNotificationLimits = [null, 1, 5, 10, 25, 50, 100, 150, 200] as const;
const MAX_RECIPIENTS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type InactiveReason = 'PolicyDisabled' | 'AuditLogDisabled';

export interface AlertPolicyView extends AlertPolicy {
  /** Whether the policy raises alerts right now. */
  active: boolean;
  inactiveReason: InactiveReason | null;
  /** Why not, in words, for admins. */
  inactiveExplanation: string | null;
}

const explanations: Record<InactiveReason, string> = {
  PolicyDisabled: 'The policy is turned off.',
  AuditLogDisabled: "Alerts are raised only while the tenant's audit log is on, and it is off. Turn the audit log on to raise alerts again.",
};

export interface UpdateAlertPolicyCommand {
  tenantId: string;
  /** The policy's id or name. */
  policy: string;
  enabled?: boolean | undefined;
  emailEnabled?: boolean | undefined;
  recipients?: readonly string[] | undefined;
  /** undefined: unchanged; null: no limit. */
  dailyNotificationLimit?: number | null | undefined;
  actor: Actor;
}

export type UpdateAlertPolicyResult = { ok: true; policy: AlertPolicyView; changed: boolean } | { ok: false; error: AlertPolicyNotFoundError | ValidationError };

/**
 * The policy as admins see it. The early warning's threshold is the deployment's
 * (SENDGUARD_WARNING_THRESHOLD_PERCENT, what enforcement warns at), not the one stored when the
 * tenant was provisioned, which a later change of the setting leaves behind.
 */
function viewOf(policy: AlertPolicy, auditLogEnabled: boolean, warningThresholdPercent: number): AlertPolicyView {
  const inactiveReason: InactiveReason | null = !policy.enabled ? 'PolicyDisabled' : !auditLogEnabled ? 'AuditLogDisabled' : null;
  const thresholdPercent = policy.kind === 'SendingLimitNearlyReached' ? warningThresholdPercent : policy.thresholdPercent;
  return { ...policy, thresholdPercent, active: inactiveReason === null, inactiveReason, inactiveExplanation: inactiveReason ? explanations[inactiveReason] : null };
}

function normaliseRecipients(recipients: readonly string[]): string[] | ValidationError {
  const out: string[] = [];
  for (const raw of recipients) {
    const value = raw.trim();
    const normalised = value.toLowerCase() === TENANT_ADMINS.toLowerCase() ? TENANT_ADMINS : value.toLowerCase();
    if (normalised !== TENANT_ADMINS && !isEmailAddress(normalised)) return new ValidationError('recipients', `${value} is neither ${TENANT_ADMINS} nor an e-mail address`);
    if (!out.includes(normalised)) out.push(normalised);
  }
  if (out.length > MAX_RECIPIENTS) return new ValidationError('recipients', `at most ${MAX_RECIPIENTS} recipients`);
  return out;
}

function toPatch(cmd: UpdateAlertPolicyCommand, current: AlertPolicy): AlertPolicyPatch | ValidationError {
  const patch: AlertPolicyPatch = {};
  if (cmd.enabled !== undefined) patch.enabled = cmd.enabled;
  if (cmd.emailEnabled !== undefined) patch.emailEnabled = cmd.emailEnabled;
  if (cmd.recipients !== undefined) {
    const recipients = normaliseRecipients(cmd.recipients);
    if (recipients instanceof ValidationError) return recipients;
    patch.recipients = recipients;
  }
  if (cmd.dailyNotificationLimit !== undefined) {
    if (!(dailyNotificationLimits as readonly (number | null)[]).includes(cmd.dailyNotificationLimit)) {
      return new ValidationError('dailyNotificationLimit', `dailyNotificationLimit must be null (no limit) or one of ${dailyNotificationLimits.filter((n) => n !== null).join(', ')}`);
    }
    patch.dailyNotificationLimit = cmd.dailyNotificationLimit;
  }
  if ((patch.emailEnabled ?? current.emailEnabled) && (patch.recipients ?? current.recipients).length === 0) {
    return new ValidationError('recipients', 'e-mail notifications need at least one recipient');
  }
  return patch;
}

function changedFields(before: AlertPolicy, patch: AlertPolicyPatch): (keyof AlertPolicyPatch)[] {
  return (Object.keys(patch) as (keyof AlertPolicyPatch)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(patch[k]));
}

function pick(policy: AlertPolicy, fields: (keyof AlertPolicyPatch)[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, policy[f]]));
}

/** Alert policies: listing with whether each is active (and why not), and the few edits an admin may make. */
export function createAlertPolicyService(deps: { db: Db; clock: Clock; warningThresholdPercent: number }) {
  const { db, clock } = deps;
  const view = (policy: AlertPolicy, auditLogEnabled: boolean) => viewOf(policy, auditLogEnabled, deps.warningThresholdPercent);

  async function auditLogEnabled(tenantId: string, tx: Db = db): Promise<boolean> {
    return (await getTenantSettings(tx, tenantId))?.auditLogEnabled ?? false;
  }

  async function list(tenantId: string): Promise<AlertPolicyView[]> {
    const enabled = await auditLogEnabled(tenantId);
    return (await listAlertPolicies(db, tenantId)).map((p) => view(p, enabled));
  }

  async function get(tenantId: string, idOrName: string): Promise<AlertPolicyView | undefined> {
    const policy = await findAlertPolicy(db, tenantId, idOrName);
    return policy ? view(policy, await auditLogEnabled(tenantId)) : undefined;
  }

  /** In the order asked; null where missing or of another tenant. */
  async function byIds(tenantId: string, ids: readonly string[]): Promise<(AlertPolicyView | null)[]> {
    const valid = ids.filter((id) => UUID.test(id));
    const found = new Map((await findAlertPoliciesByIds(db, tenantId, valid)).map((p) => [p.id, p]));
    const enabled = found.size > 0 && (await auditLogEnabled(tenantId));
    return ids.map((id) => {
      const policy = found.get(id);
      return policy ? view(policy, enabled) : null;
    });
  }

  /** Status, e-mail on/off, recipients and the daily limit; nothing else of a policy can change. Audited. */
  async function update(cmd: UpdateAlertPolicyCommand): Promise<UpdateAlertPolicyResult> {
    return db.transaction(async (tx) => {
      const before = await findAlertPolicy(tx, cmd.tenantId, cmd.policy, { forUpdate: true });
      if (!before) return { ok: false, error: new AlertPolicyNotFoundError(cmd.policy) };
      const patch = toPatch(cmd, before);
      if (patch instanceof ValidationError) return { ok: false, error: patch };
      const fields = changedFields(before, patch);
      const enabled = await auditLogEnabled(cmd.tenantId, tx);
      if (fields.length === 0) return { ok: true, policy: view(before, enabled), changed: false };
      const now = clock.now();
      const after = await updateAlertPolicy(tx, before.id, patch, now);
      await recordAudit(tx, {
        tenantId: cmd.tenantId,
        actor: cmd.actor,
        action: 'UpdateAlertPolicy',
        targetKind: 'alertPolicy',
        target: after.name,
        before: pick(before, fields),
        after: pick(after, fields),
        at: now,
      });
      return { ok: true, policy: view(after, enabled), changed: true };
    });
  }

  return { list, get, byIds, update };
}

export type AlertPolicyService = ReturnType<typeof createAlertPolicyService>;
