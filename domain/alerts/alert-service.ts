import type { Db } from '../../db/client.ts';
import { listAlertPoliciesOfKind, type AlertPolicy } from '../../db/repos/alert-policies.ts';
import {
  findAggregatableAlert,
  findAlert,
  findRestrictionAlert,
  insertAlert,
  lastSourceEventId,
  lockAlertKey,
  markAlertStream,
  recordAlertHit,
  setAlertStatus,
  updateAlertDetails,
  type Alert,
  type AlertKey,
  type AlertStatus,
  type Notification,
} from '../../db/repos/alerts.ts';
import { eventIdBefore, readEventsOfTypes } from '../../db/repos/events.ts';
import { getTenantSettings } from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../clock.ts';
import type { StoredEvent } from '../events/event-types.ts';
import { appendAlertEvent } from './alert-events.ts';
import { writeNotifications } from './alert-notifications.ts';
import { alertSignalOf, alertSourceEventTypes, type AlertSignal } from './alert-signals.ts';
import { AlertNotFoundError, AlertStatusTransitionError } from './errors.ts';

export interface AlertOutcome {
  alert: Alert;
  /** true: a new alert (with its notifications); false: a repeat that raised the hit count. */
  raised: boolean;
  notifications: Notification[];
}

export interface UpdateAlertStatusCommand {
  tenantId: string;
  alertId: string;
  status: AlertStatus;
  actor: Actor;
}

export type UpdateAlertStatusResult = { ok: true; alert: Alert; changed: boolean } | { ok: false; error: AlertNotFoundError | AlertStatusTransitionError };

const statusOrder: Record<AlertStatus, number> = { New: 0, InProgress: 1, Resolved: 2 };
const CATCH_UP_BATCH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Raises alerts from events. Every process's event bus delivers every event, so each event is
 * folded into an alert stream (policy × entity) under a transaction-level advisory lock on that
 * stream, and only if the stream has not yet seen an event with this id or a later one. Each
 * bus delivers in id order, so whichever process gets there first handles the event, and every
 * other process finds it already done: one alert or one hit per event, whatever runs it.
 */
export function createAlertService(deps: { db: Db; clock: Clock; aggregationSeconds: number }) {
  const { db, clock } = deps;

  /** Folds the event into its stream, whose lock the caller holds. */
  async function foldIntoStream(tx: Db, key: AlertKey, policy: AlertPolicy, signal: AlertSignal, event: StoredEvent): Promise<AlertOutcome | undefined> {
    if ((await lastSourceEventId(tx, key)) >= event.id) return undefined;
    const now = clock.now();
    // An admin making a restriction last longer is the same incident, however late: its alert
    // (even a resolved one) now tells of the longer block, and no one is e-mailed again.
    const extended = signal.extension && signal.restrictionId ? await findRestrictionAlert(tx, key, signal.restrictionId) : undefined;
    if (extended) {
      const alert = await updateAlertDetails(tx, extended.id, { title: signal.title, details: signal.details, at: now }, event.id);
      return { alert, raised: false, notifications: [] };
    }
    const windowMs = deps.aggregationSeconds * 1000;
    // Within the interval of the alert's occurrences, either side: one that happened well before
    // the alert began (committed late) is an incident of its own, not a reason to move its start.
    const occurred = event.occurredAt.getTime();
    const open = windowMs > 0 ? await findAggregatableAlert(tx, key, { from: new Date(occurred - windowMs), to: new Date(occurred + windowMs) }) : undefined;
    // Another restriction is another incident, however soon: its own alert, and its own notice in
    // Teams (a repeat notifies no one, and the earlier notice says "released").
    const anotherRestriction = signal.restrictionId !== null && open?.restrictionId != null && signal.restrictionId !== open.restrictionId;
    if (open && !anotherRestriction) {
      const alert = await recordAlertHit(tx, open.id, { seenAt: event.occurredAt, title: signal.title, details: signal.details, at: now }, event.id);
      return { alert, raised: false, notifications: [] };
    }
    const alert = await insertAlert(
      tx,
      {
        tenantId: event.tenantId,
        policyId: policy.id,
        kind: policy.kind,
        severity: policy.severity,
        title: signal.title,
        entityKind: signal.entityKind,
        entityKey: signal.entityKey,
        restrictionId: signal.restrictionId,
        details: signal.details,
        firstSeenAt: event.occurredAt,
        lastSeenAt: event.occurredAt,
        updatedAt: now,
      },
      event.id,
    );
    return { alert, raised: true, notifications: await writeNotifications(tx, alert, policy, now) };
  }

  /**
   * Raises (or aggregates) the alerts an event calls for; nothing while the tenant's audit log or
   * the policy is off. Either way the event is then handled in each stream: one that raised
   * nothing is marked, so a catch-up after a restart does not raise it under later settings.
   */
  async function handleEvent(event: StoredEvent): Promise<AlertOutcome[]> {
    const signal = alertSignalOf(event);
    if (!signal) return [];
    return db.transaction(async (tx) => {
      const settings = await getTenantSettings(tx, event.tenantId);
      if (!settings) return [];
      const outcomes: AlertOutcome[] = [];
      for (const policy of await listAlertPoliciesOfKind(tx, event.tenantId, signal.kind)) {
        const key: AlertKey = { tenantId: event.tenantId, policyId: policy.id, entityKind: signal.entityKind, entityKey: signal.entityKey };
        await lockAlertKey(tx, key);
        if (settings.auditLogEnabled && policy.enabled) {
          const outcome = await foldIntoStream(tx, key, policy, signal, event);
          if (outcome) outcomes.push(outcome);
        } else {
          await markAlertStream(tx, key, event.id);
        }
      }
      // Last, so the global event-writer lock is taken after every alert lock.
      for (const o of outcomes) await appendAlertEvent(tx, o.raised ? 'AlertRaised' : 'AlertUpdated', o.alert, clock.now());
      return outcomes;
    });
  }

  /**
   * Handles the events up to `throughId` that occurred since `since` (those committed while no
   * consumer was running). Already handled ones are found done and skipped.
   */
  async function catchUp(range: { since: Date; throughId: number }): Promise<number> {
    let after = await eventIdBefore(db, range.since, range.throughId);
    let handled = 0;
    for (;;) {
      const batch = await readEventsOfTypes(db, { types: alertSourceEventTypes, afterId: after, throughId: range.throughId, limit: CATCH_UP_BATCH });
      for (const event of batch) {
        after = event.id;
        handled += (await handleEvent(event)).length;
      }
      if (batch.length < CATCH_UP_BATCH) return handled;
    }
  }

  /** Moves an alert forward (New → InProgress → Resolved), audited; the same status again changes nothing. */
  async function updateAlertStatus(cmd: UpdateAlertStatusCommand): Promise<UpdateAlertStatusResult> {
    if (!UUID.test(cmd.alertId)) return { ok: false, error: new AlertNotFoundError(cmd.alertId) };
    return db.transaction(async (tx) => {
      const before = await findAlert(tx, cmd.tenantId, cmd.alertId, { forUpdate: true });
      if (!before) return { ok: false, error: new AlertNotFoundError(cmd.alertId) };
      if (before.status === cmd.status) return { ok: true, alert: before, changed: false };
      if (statusOrder[cmd.status] < statusOrder[before.status]) return { ok: false, error: new AlertStatusTransitionError(before.id, before.status, cmd.status) };
      const now = clock.now();
      const alert = await setAlertStatus(tx, before.id, { status: cmd.status, by: cmd.actor.name, at: now });
      await recordAudit(tx, {
        tenantId: cmd.tenantId,
        actor: cmd.actor,
        action: 'UpdateAlertStatus',
        targetKind: 'alert',
        target: alert.id,
        before: { status: before.status },
        after: { status: alert.status },
        details: { title: alert.title, entityKey: alert.entityKey },
        at: now,
      });
      await appendAlertEvent(tx, 'AlertUpdated', alert, now);
      return { ok: true, alert, changed: true };
    });
  }

  return { handleEvent, catchUp, updateAlertStatus };
}

export type AlertService = ReturnType<typeof createAlertService>;
