import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { groupMembers } from '../schema/tenants.ts';

export type GroupMember = typeof groupMembers.$inferSelect;

export async function listGroupMemberships(db: Db, tenantId: string): Promise<GroupMember[]> {
  return db.select().from(groupMembers).where(eq(groupMembers.tenantId, tenantId));
}

export async function addGroupMembers(tx: Db, tenantId: string, groupAddress: string, members: string[]): Promise<void> {
  if (members.length === 0) return;
  await tx
    .insert(groupMembers)
    .values(members.map((m) => ({ tenantId, groupAddress: groupAddress.toLowerCase(), memberAddress: m.toLowerCase() })))
    .onConflictDoNothing();
}

export async function removeGroupMember(tx: Db, tenantId: string, groupAddress: string, member: string): Promise<boolean> {
  const rows = await tx
    .delete(groupMembers)
    .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupAddress, groupAddress.toLowerCase()), eq(groupMembers.memberAddress, member.toLowerCase())))
    .returning();
  return rows.length > 0;
}
