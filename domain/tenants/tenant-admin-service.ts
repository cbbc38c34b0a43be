import type { Db } from '../../db/client.ts';
import {
  addAcceptedDomains,
  findTenant,
  getTenantSettings,
  listAcceptedDomains,
  lockAcceptedDomains,
  removeAcceptedDomain,
  updateTenantSettings,
  type TenantSettings,
} from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordConfigChange } from './config-change.ts';
import { refuseOverlappingDomains } from './domain-overlap.ts';
import type { Clock } from '../clock.ts';
import { validDomains } from '../policies/policy-validation.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { NotFoundError } from './errors.ts';
import { validUnblockSettings, type UnblockSettingsChange } from './unblock-settings.ts';

export interface TenantOverview {
  id: string;
  name: string;
  acceptedDomains: string[];
  settings: TenantSettings;
}

interface TenantCommand {
  tenantId: string;
  actor: Actor;
}

function oneDomain(value: string): string {
  const [domain] = validDomains('domain', [value]);
  if (!domain) throw new ValidationError('domain', 'a domain name is required');
  return domain;
}

/** Tenant-wide settings an admin changes: the audit log switch, the unblock quota and the accepted domains. */
export function createTenantAdminService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function overview(tenantId: string): Promise<TenantOverview | undefined> {
    const [tenant, domains, settings] = await Promise.all([findTenant(db, tenantId), listAcceptedDomains(db, tenantId), getTenantSettings(db, tenantId)]);
    if (!tenant || !settings) return undefined;
    return { id: tenant.id, name: tenant.name, acceptedDomains: domains, settings };
  }

  /** Alerts work only while the audit log is on; the switch itself is always audited. */
  async function setAuditLogEnabled(cmd: TenantCommand & { enabled: boolean }): Promise<TenantSettings> {
    return db.transaction(async (tx) => {
      const before = await getTenantSettings(tx, cmd.tenantId);
      if (!before) throw new NotFoundError('tenant', cmd.tenantId);
      if (before.auditLogEnabled === cmd.enabled) return before;
      const at = clock.now();
      const after = await updateTenantSettings(tx, cmd.tenantId, { auditLogEnabled: cmd.enabled }, at);
      if (!after) throw new NotFoundError('tenant', cmd.tenantId);
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Set-AdminAuditLogConfig', targetKind: 'tenant', target: cmd.tenantId, before, after, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'TenantSettingsChanged', target: cmd.tenantId, actor: cmd.actor, at });
      return after;
    });
  }

  /**
   * The tenant's unblock quota and what happens past it: releases per user per window (null: the
   * deployment's SENDGUARD_UNBLOCK_QUOTA, 0: no quota), the window in days (null: the deployment's)
   * and whether a second admin's approval releases past the quota instead of a refusal. Fields
   * left undefined stay as they are; a change is audited as Set-UnblockSettings.
   */
  async function setUnblockSettings(cmd: TenantCommand & UnblockSettingsChange): Promise<TenantSettings> {
    const patch = validUnblockSettings(cmd);
    return db.transaction(async (tx) => {
      const before = await getTenantSettings(tx, cmd.tenantId);
      if (!before) throw new NotFoundError('tenant', cmd.tenantId);
      const changed = Object.entries(patch).some(([key, value]) => before[key as keyof typeof patch] !== value);
      if (!changed) return before;
      const at = clock.now();
      const after = await updateTenantSettings(tx, cmd.tenantId, patch, at);
      if (!after) throw new NotFoundError('tenant', cmd.tenantId);
      const audited = (s: TenantSettings) => ({ unblockQuota: s.unblockQuota, unblockQuotaWindowDays: s.unblockQuotaWindowDays, requireSecondApproval: s.requireSecondApproval });
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Set-UnblockSettings', targetKind: 'tenant', target: cmd.tenantId, before: audited(before), after: audited(after), at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'TenantSettingsChanged', target: cmd.tenantId, actor: cmd.actor, at });
      return after;
    });
  }

  /**
   * Adds a domain (its subdomains count as internal too). Adding one the tenant already has changes
   * nothing. A domain another organisation has accepted, or a parent or subdomain of one of its
   * domains, is refused (refuseOverlappingDomains).
   */
  async function addDomain(cmd: TenantCommand & { domain: string }): Promise<string[]> {
    const domain = oneDomain(cmd.domain);
    return db.transaction(async (tx) => {
      await refuseOverlappingDomains(tx, cmd.tenantId, [domain]);
      const before = await listAcceptedDomains(tx, cmd.tenantId);
      if (before.includes(domain)) return before;
      await addAcceptedDomains(tx, cmd.tenantId, [domain]);
      const after = await listAcceptedDomains(tx, cmd.tenantId);
      const at = clock.now();
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'New-AcceptedDomain', targetKind: 'acceptedDomain', target: domain, before, after, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'AcceptedDomainsChanged', target: domain, actor: cmd.actor, at });
      return after;
    });
  }

  async function removeDomain(cmd: TenantCommand & { domain: string }): Promise<string[]> {
    const domain = oneDomain(cmd.domain);
    return db.transaction(async (tx) => {
      // The lock adds take: two removals at once would each see the other's domain left, and leave none.
      await lockAcceptedDomains(tx);
      const before = await listAcceptedDomains(tx, cmd.tenantId);
      if (!before.includes(domain)) throw new NotFoundError('accepted domain', domain);
      if (before.length === 1) throw new ValidationError('domain', `${domain} is the last accepted domain; add another one first`);
      await removeAcceptedDomain(tx, cmd.tenantId, domain);
      const after = await listAcceptedDomains(tx, cmd.tenantId);
      const at = clock.now();
      await recordAudit(tx, { tenantId: cmd.tenantId, actor: cmd.actor, action: 'Remove-AcceptedDomain', targetKind: 'acceptedDomain', target: domain, before, after, at });
      await recordConfigChange(tx, { tenantId: cmd.tenantId, type: 'AcceptedDomainsChanged', target: domain, actor: cmd.actor, at });
      return after;
    });
  }

  return { overview, setAuditLogEnabled, setUnblockSettings, addDomain, removeDomain };
}

export type TenantAdminService = ReturnType<typeof createTenantAdminService>;
