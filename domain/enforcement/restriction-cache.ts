import type { Clock } from '../clock.ts';

export interface CachedRestriction {
  restrictionId: string;
  reasonCode: string;
  expiresAt: Date | null;
}

interface Entry extends CachedRestriction {
  checkedAt: number;
}

const MAX_ENTRIES = 100_000;

/**
 * Which senders are restricted, served from memory for at most `maxAgeMs` after the database
 * (or a restriction event) said so. Release events delete entries at once; the age bound keeps a
 * lost notification from holding a released sender longer than that.
 */
export function createRestrictionCache(deps: { clock: Clock; maxAgeMs: number }) {
  const entries = new Map<string, Entry>();
  const key = (tenantId: string, sender: string) => `${tenantId}\u001f${sender}`;

  return {
    get(tenantId: string, sender: string): CachedRestriction | undefined {
      const k = key(tenantId, sender);
      const entry = entries.get(k);
      if (!entry) return undefined;
      const now = deps.clock.now().getTime();
      if (now - entry.checkedAt >= deps.maxAgeMs || (entry.expiresAt && entry.expiresAt.getTime() <= now)) {
        entries.delete(k);
        return undefined;
      }
      return entry;
    },
    set(tenantId: string, sender: string, restriction: CachedRestriction): void {
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(key(tenantId, sender), { ...restriction, checkedAt: deps.clock.now().getTime() });
    },
    delete(tenantId: string, sender: string): void {
      entries.delete(key(tenantId, sender));
    },
    clear: () => entries.clear(),
  };
}

export type RestrictionCache = ReturnType<typeof createRestrictionCache>;
