import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { acceptedDomains, tenantSettings, tenants } from '../schema/tenants.ts';

export type Tenant = typeof tenants.$inferSelect;
export type TenantSettings = typeof tenantSettings.$inferSelect;

export async function insertTenantIfMissing(tx: Db, tenant: { id: string; name: string }): Promise<boolean> {
  const inserted = await tx.insert(tenants).values(tenant).onConflictDoNothing().returning({ id: tenants.id });
  await tx.insert(tenantSettings).values({ tenantId: tenant.id }).onConflictDoNothing();
  return inserted.length > 0;
}

export async function addAcceptedDomains(tx: Db, tenantId: string, domains: string[]): Promise<void> {
  if (domains.length === 0) return;
  await tx
    .insert(acceptedDomains)
    .values(domains.map((domain) => ({ tenantId, domain: domain.toLowerCase() })))
    .onConflictDoNothing();
}

export async function removeAcceptedDomain(tx: Db, tenantId: string, domain: string): Promise<boolean> {
  const removed = await tx
    .delete(acceptedDomains)
    .where(and(eq(acceptedDomains.tenantId, tenantId), eq(acceptedDomains.domain, domain.toLowerCase())))
    .returning();
  return removed.length > 0;
}

export async function findTenant(db: Db, tenantId: string): Promise<Tenant | undefined> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, tenantId));
  return row;
}

export async function listAcceptedDomains(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db.select({ domain: acceptedDomains.domain }).from(acceptedDomains).where(eq(acceptedDomains.tenantId, tenantId));
  return rows.map((r) => r.domain).sort();
}

/** The tenant owning a domain or one of its parent domains (mail.contoso.com → contoso.com). */
export async function findTenantByDomain(db: Db, domain: string): Promise<{ tenantId: string; domain: string } | undefined> {
  const labels = domain.toLowerCase().split('.');
  const candidates = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  if (candidates.length === 0) return undefined;
  const rows = await db
    .select({ tenantId: acceptedDomains.tenantId, domain: acceptedDomains.domain })
    .from(acceptedDomains)
    .where(inArray(acceptedDomains.domain, candidates));
  return rows.sort((a, b) => b.domain.length - a.domain.length)[0];
}

export async function getTenantSettings(db: Db, tenantId: string): Promise<TenantSettings | undefined> {
  const [row] = await db.select().from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId));
  return row;
}

export async function updateTenantSettings(
  tx: Db,
  tenantId: string,
  patch: Partial<Omit<TenantSettings, 'tenantId' | 'updatedAt'>>,
  at: Date,
): Promise<TenantSettings | undefined> {
  const [row] = await tx
    .update(tenantSettings)
    .set({ ...patch, updatedAt: at })
    .where(eq(tenantSettings.tenantId, tenantId))
    .returning();
  return row;
}

/** Every accepted domain of every tenant (the enforcement path resolves senders from memory). */
export async function listAllAcceptedDomains(db: Db): Promise<{ tenantId: string; domain: string }[]> {
  return db.select({ tenantId: acceptedDomains.tenantId, domain: acceptedDomains.domain }).from(acceptedDomains);
}

/**
 * Another tenant's accepted domain that is `domain`, a parent of it or a subdomain of it: mail of
 * the one would be decided by the other (the most specific accepted domain owns a sender).
 */
export async function findOverlappingDomain(db: Db, tenantId: string, domain: string): Promise<{ tenantId: string; domain: string } | undefined> {
  const lower = domain.toLowerCase();
  const labels = lower.split('.');
  const selfAndParents = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  const [row] = await db
    .select({ tenantId: acceptedDomains.tenantId, domain: acceptedDomains.domain })
    .from(acceptedDomains)
    .where(
      and(
        ne(acceptedDomains.tenantId, tenantId),
        or(inArray(acceptedDomains.domain, selfAndParents.length > 0 ? selfAndParents : [lower]), sql`right(${acceptedDomains.domain}, ${lower.length + 1}) = ${`.${lower}`}`),
      ),
    )
    .orderBy(acceptedDomains.domain)
    .limit(1);
  return row;
}

/** Serialises changes to accepted domains (an overlap check and its insert) across processes. */
export async function lockAcceptedDomains(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('sendguard accepted domains', 0))`);
}
