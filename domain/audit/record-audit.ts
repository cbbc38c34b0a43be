import type { Db } from '../../db/client.ts';
import { appendAudit, type AuditRecord } from '../../db/repos/audit-log.ts';
import type { Actor } from '../actor.ts';

export interface AuditEntry {
  tenantId: string;
  actor: Actor;
  action: string;
  targetKind: string;
  target: string;
  before?: unknown;
  after?: unknown;
  result?: 'Success' | 'Failure';
  details?: Record<string, unknown>;
  at: Date;
}

/** Writes one audit record inside the caller's transaction. */
export function recordAudit(tx: Db, entry: AuditEntry): Promise<AuditRecord> {
  return appendAudit(tx, {
    tenantId: entry.tenantId,
    occurredAt: entry.at,
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    actorRoles: entry.actor.roles,
    source: entry.actor.source,
    action: entry.action,
    targetKind: entry.targetKind,
    target: entry.target,
    before: entry.before ?? null,
    after: entry.after ?? null,
    result: entry.result ?? 'Success',
    details: entry.details ?? null,
  });
}
