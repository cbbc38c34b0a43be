import { and, asc, desc, eq, gt, gte, ilike, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { anyOf } from '../any-of.ts';
import type { Db } from '../client.ts';
import { auditLog } from '../schema/audit-log.ts';

export type AuditRecord = typeof auditLog.$inferSelect;
export type NewAuditRecord = Omit<typeof auditLog.$inferInsert, 'id'>;

export async function appendAudit(tx: Db, record: NewAuditRecord): Promise<AuditRecord> {
  const [row] = await tx.insert(auditLog).values(record).returning();
  if (!row) throw new Error('audit insert returned no row');
  return row;
}

export interface AuditSearch {
  tenantId: string;
  actor?: string | undefined;
  action?: string | undefined;
  /** Part of the target, in any of these spellings. */
  targets?: readonly string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Keyset: records older than this id (newest first). */
  beforeId?: number | undefined;
  limit: number;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function searchConditions(search: AuditSearch): SQL[] {
  const conditions: SQL[] = [eq(auditLog.tenantId, search.tenantId)];
  if (search.actor) {
    const actorLike = `%${escapeLike(search.actor)}%`;
    const byActor = or(eq(auditLog.actorId, search.actor), ilike(auditLog.actorName, actorLike));
    if (byActor) conditions.push(byActor);
  }
  // In any case, as Search-UnifiedAuditLog matches operations. No index has the action, so this costs none.
  if (search.action) conditions.push(sql`lower(${auditLog.action}) = lower(${search.action})`);
  if (search.targets?.length) conditions.push(or(...search.targets.map((t) => ilike(auditLog.target, `%${escapeLike(t)}%`))) as SQL);
  if (search.from) conditions.push(gte(auditLog.occurredAt, search.from));
  if (search.to) conditions.push(lte(auditLog.occurredAt, search.to));
  return conditions;
}

export async function searchAudit(db: Db, search: AuditSearch): Promise<{ records: AuditRecord[]; totalCount: number }> {
  const conditions = searchConditions(search);
  const page = search.beforeId === undefined ? conditions : [...conditions, lt(auditLog.id, search.beforeId)];
  const records = await db.select().from(auditLog).where(and(...page)).orderBy(desc(auditLog.id)).limit(search.limit);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(auditLog).where(and(...conditions));
  return { records, totalCount: Number(count?.n ?? 0) };
}

/** One page of a search without the total (exports): by id, strictly beyond `cursorId` in the chosen order. */
export async function listAuditPage(db: Db, search: Omit<AuditSearch, 'beforeId'> & { ascending: boolean; cursorId?: number | undefined }): Promise<AuditRecord[]> {
  const conditions = searchConditions(search);
  if (search.cursorId !== undefined) conditions.push(search.ascending ? gt(auditLog.id, search.cursorId) : lt(auditLog.id, search.cursorId));
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(search.ascending ? asc(auditLog.id) : desc(auditLog.id))
    .limit(search.limit);
}

export async function findAuditRecordsByIds(db: Db, tenantId: string, ids: readonly number[]): Promise<AuditRecord[]> {
  if (ids.length === 0) return [];
  return db.select().from(auditLog).where(and(eq(auditLog.tenantId, tenantId), anyOf(auditLog.id, ids)));
}
