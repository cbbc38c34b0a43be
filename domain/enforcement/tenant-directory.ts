import type { Db } from '../../db/client.ts';
import { listGroupMemberships } from '../../db/repos/group-members.ts';
import { listPolicies, listRules } from '../../db/repos/outbound-spam-policies.ts';
import { listAllAcceptedDomains } from '../../db/repos/tenants.ts';
import type { Clock } from '../clock.ts';
import { canonicalAddress, canonicalDomain } from '../mail-address.ts';
import { NOT_LOADED } from './not-loaded.ts';
import { groupsOf, isWithinDomain, selectPolicy, type GroupMembership, type PolicyChoice, type PolicyFacts, type RuleFacts } from '../policies/select-policy.ts';

const MAX_MEMO = 50_000;

/** What enforcement needs to know about one tenant, held in memory between reloads. */
export interface TenantSnapshot {
  tenantId: string;
  acceptedDomains: readonly string[];
  /** The policy for a sender address (memoised). */
  choose(sender: string): PolicyChoice;
  /** Whether a recipient domain is one of the tenant's accepted domains or a subdomain of one. */
  isInternal(domain: string): boolean;
}

export function buildSnapshot(
  tenantId: string,
  data: { domains: string[]; policies: PolicyFacts[]; rules: RuleFacts[]; memberships: GroupMembership[] },
): TenantSnapshot {
  const memo = new Map<string, PolicyChoice>();
  const usesGroups = data.rules.some((r) => r.fromMemberOf.length > 0 || r.exceptIfFromMemberOf.length > 0);
  return {
    tenantId,
    acceptedDomains: data.domains,
    choose(sender) {
      const address = canonicalAddress(sender);
      const known = memo.get(address);
      if (known) return known;
      const groups = usesGroups ? groupsOf(address, data.memberships) : new Set<string>();
      const choice = selectPolicy({ address, groups }, data.policies, data.rules);
      if (memo.size >= MAX_MEMO) memo.clear();
      memo.set(address, choice);
      return choice;
    },
    isInternal(domain) {
      const canonical = canonicalDomain(domain);
      return canonical !== '' && data.domains.some((d) => isWithinDomain(canonical, d));
    },
  };
}

interface Entry<T> {
  value: T;
  loadedAt: number;
}

/**
 * Tenants by accepted domain, and per-tenant snapshots, kept in memory. A stale entry is served
 * while it reloads in the background, so the request path stays at one database round trip;
 * `invalidate` drops entries so the next request waits for fresh data.
 */
export function createTenantDirectory(deps: { db: Db; clock: Clock; ttlMs: number; onError?: (err: unknown) => void; onReloaded?: () => void }) {
  const { db, clock, ttlMs } = deps;
  let domains: Entry<Map<string, string>> | undefined;
  let domainsLoading: Promise<Map<string, string>> | undefined;
  const snapshots = new Map<string, Entry<TenantSnapshot>>();
  const loading = new Map<string, Promise<TenantSnapshot>>();
  // Loads started before an invalidation must not store what they read.
  let generation = 0;

  const stale = (e: Entry<unknown>) => clock.now().getTime() - e.loadedAt >= ttlMs;

  function loadDomains(): Promise<Map<string, string>> {
    if (domainsLoading) return domainsLoading;
    const gen = generation;
    const started = listAllAcceptedDomains(db)
      .then((rows) => {
        const map = new Map(rows.map((r) => [canonicalDomain(r.domain), r.tenantId]));
        if (gen === generation) domains = { value: map, loadedAt: clock.now().getTime() };
        return map;
      })
      .finally(() => {
        if (domainsLoading === started) domainsLoading = undefined;
      });
    domainsLoading = started;
    return started;
  }

  function loadSnapshot(tenantId: string): Promise<TenantSnapshot> {
    const pending = loading.get(tenantId);
    if (pending) return pending;
    const gen = generation;
    const started = (async () => {
      const [tenantDomains, policies, rules] = await Promise.all([
        loadDomains().then((map) => [...map].filter(([, t]) => t === tenantId).map(([d]) => d)),
        listPolicies(db, tenantId),
        listRules(db, tenantId),
      ]);
      const usesGroups = rules.some((r) => r.fromMemberOf.length > 0 || r.exceptIfFromMemberOf.length > 0);
      const memberships = usesGroups ? await listGroupMemberships(db, tenantId) : [];
      const snapshot = buildSnapshot(tenantId, { domains: tenantDomains, policies, rules, memberships });
      if (gen === generation) snapshots.set(tenantId, { value: snapshot, loadedAt: clock.now().getTime() });
      return snapshot;
    })().finally(() => {
      if (loading.get(tenantId) === started) loading.delete(tenantId);
    });
    loading.set(tenantId, started);
    return started;
  }

  function refreshInBackground(load: () => Promise<unknown>): void {
    load().then(
      () => deps.onReloaded?.(),
      (err: unknown) => deps.onError?.(err),
    );
  }

  function ownerIn(map: Map<string, string>, domain: string): string | undefined {
    const canonical = canonicalDomain(domain);
    // A name without a dot is never looked up on its own, as a top-level domain is not.
    if (!canonical.includes('.')) return undefined;
    const exact = map.get(canonical);
    if (exact) return exact;
    const labels = canonical.split('.');
    for (let i = 1; i < labels.length - 1; i++) {
      const tenantId = map.get(labels.slice(i).join('.'));
      if (tenantId) return tenantId;
    }
    return undefined;
  }

  /** The tenant owning a domain or one of its parent domains (mail.contoso.com → contoso.com). */
  async function tenantOf(domain: string): Promise<string | undefined> {
    const loaded = tenantOfLoaded(domain);
    return loaded === NOT_LOADED ? ownerIn(await loadDomains(), domain) : loaded;
  }

  /** As `tenantOf`, from memory; `NOT_LOADED` when the domains are not (start, or after an invalidation). */
  function tenantOfLoaded(domain: string): string | undefined | typeof NOT_LOADED {
    if (!domains) return NOT_LOADED;
    if (stale(domains)) refreshInBackground(loadDomains);
    return ownerIn(domains.value, domain);
  }

  async function snapshot(tenantId: string): Promise<TenantSnapshot> {
    return snapshotLoaded(tenantId) ?? loadSnapshot(tenantId);
  }

  /** As `snapshot`, from memory; undefined when the tenant's is not loaded. */
  function snapshotLoaded(tenantId: string): TenantSnapshot | undefined {
    const entry = snapshots.get(tenantId);
    if (entry && stale(entry)) refreshInBackground(() => loadSnapshot(tenantId));
    return entry?.value;
  }

  /** Forgets a tenant's snapshot (or everything), e.g. after a policy or domain change. */
  function invalidate(tenantId?: string): void {
    generation++;
    domains = undefined;
    domainsLoading = undefined;
    if (tenantId === undefined) {
      snapshots.clear();
      loading.clear();
    } else {
      snapshots.delete(tenantId);
      loading.delete(tenantId);
    }
  }

  /** Loads the accepted domains and the snapshots of the first `tenants` tenants that have any. */
  async function load(tenants: number): Promise<void> {
    const owners = [...new Set((await loadDomains()).values())].slice(0, tenants);
    await Promise.all(owners.map((tenantId) => snapshot(tenantId)));
  }

  return { tenantOf, tenantOfLoaded, snapshot, snapshotLoaded, invalidate, load };
}

export type TenantDirectory = ReturnType<typeof createTenantDirectory>;
