import type { Services } from '../../cli/services.ts';
import type { TenantOverview } from '../../domain/tenants/tenant-admin-service.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { ViewerRef } from './viewer.ts';

const TenantRef = builder.objectRef<TenantOverview>('Tenant').implement({
  description: 'The organisation the token belongs to.',
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    acceptedDomains: t.exposeStringList('acceptedDomains', { description: 'Recipients in these domains (and their subdomains) are internal.' }),
    auditLogEnabled: t.boolean({ description: 'Alerts work only while the audit log is on.', resolve: (o) => o.settings.auditLogEnabled }),
    requireSecondApproval: t.boolean({ description: "Past the unblock quota, a release needs a second admin's approval.", resolve: (o) => o.settings.requireSecondApproval }),
    unblockQuota: t.int({
      description: "Releases per user per quota window (0: no quota); the deployment's SENDGUARD_UNBLOCK_QUOTA unless the tenant set its own.",
      resolve: (o, _args, { services }) => o.settings.unblockQuota ?? services.config.unblockQuota.maxReleases,
    }),
    unblockQuotaWindowDays: t.int({
      description: "The unblock quota's rolling window in days; the deployment's SENDGUARD_UNBLOCK_QUOTA_WINDOW_DAYS unless the tenant set its own.",
      resolve: (o, _args, { services }) => o.settings.unblockQuotaWindowDays ?? services.config.unblockQuota.windowDays,
    }),
  }),
});

builder.objectField(ViewerRef, 'tenant', (t) =>
  t.field({
    type: TenantRef,
    resolve: async (viewer, _args, { services }) => {
      const tenant = await services.tenantAdmin.overview(viewer.tenantId);
      if (!tenant) throw new Error(`tenant ${viewer.tenantId} vanished`);
      return tenant;
    },
  }),
);

async function tenantOf(services: Services, tenantId: string): Promise<TenantOverview> {
  const tenant = await services.tenantAdmin.overview(tenantId);
  if (!tenant) throw new NotFoundError('tenant', tenantId);
  return tenant;
}

const SetAuditLogEnabledInput = builder.inputType('SetAuditLogEnabledInput', { fields: (t) => ({ enabled: t.boolean({ required: true }) }) });

builder.mutationField('setAuditLogEnabled', (t) =>
  t.field({
    type: TenantRef,
    authScopes: { manage: true },
    description: 'Turns the audit log on or off (Exchange: Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled). Alerts stop while it is off; audit records are written either way, so no admin can hide what is done meanwhile.',
    args: { input: t.arg({ type: SetAuditLogEnabledInput, required: true }) },
    resolve: async (_root, { input }, { services, viewer }) => {
      await services.tenantAdmin.setAuditLogEnabled({ tenantId: viewer.tenantId, actor: actorOf(viewer), enabled: input.enabled });
      return tenantOf(services, viewer.tenantId);
    },
  }),
);

const SetUnblockSettingsInput = builder.inputType('SetUnblockSettingsInput', {
  fields: (t) => ({
    unblockQuota: t.int({ description: 'Releases per user per window, 0 to 1000 (0: no quota); null: the deployment default; absent: unchanged.' }),
    unblockQuotaWindowDays: t.int({ description: 'The rolling window in days, 1 to 365; null: the deployment default; absent: unchanged.' }),
    requireSecondApproval: t.boolean({ description: "Past the quota, a second admin's unblockUser releases instead of a refusal; absent: unchanged." }),
  }),
});

builder.mutationField('setUnblockSettings', (t) =>
  t.field({
    type: TenantRef,
    authScopes: { manage: true },
    description: "Sets the tenant's unblock quota, its window and whether a second admin's approval releases past it (audited as Set-UnblockSettings).",
    args: { input: t.arg({ type: SetUnblockSettingsInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'SetUnblockSettingsResult' }, result: { name: 'SetUnblockSettingsSuccess' }, dataField: { name: 'tenant' } },
    resolve: async (_root, { input }, { services, viewer }) => {
      if (input.requireSecondApproval === null) throw new ValidationError('requireSecondApproval', 'must be true or false (leave it out to keep it)');
      await services.tenantAdmin.setUnblockSettings({
        tenantId: viewer.tenantId,
        actor: actorOf(viewer),
        unblockQuota: input.unblockQuota,
        unblockQuotaWindowDays: input.unblockQuotaWindowDays,
        requireSecondApproval: input.requireSecondApproval,
      });
      return tenantOf(services, viewer.tenantId);
    },
  }),
);

const AcceptedDomainInput = builder.inputType('AcceptedDomainInput', { fields: (t) => ({ domain: t.string({ required: true }) }) });

builder.mutationField('addAcceptedDomain', (t) =>
  t.field({
    type: TenantRef,
    authScopes: { manage: true },
    description: 'Accepts a domain for the tenant; adding one it already has changes nothing.',
    args: { input: t.arg({ type: AcceptedDomainInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'AddAcceptedDomainResult' }, result: { name: 'AddAcceptedDomainSuccess' }, dataField: { name: 'tenant' } },
    resolve: async (_root, { input }, { services, viewer }) => {
      await services.tenantAdmin.addDomain({ tenantId: viewer.tenantId, actor: actorOf(viewer), domain: input.domain });
      return tenantOf(services, viewer.tenantId);
    },
  }),
);

builder.mutationField('removeAcceptedDomain', (t) =>
  t.field({
    type: TenantRef,
    authScopes: { manage: true },
    description: 'Stops accepting a domain (the last one cannot be removed).',
    args: { input: t.arg({ type: AcceptedDomainInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: 'RemoveAcceptedDomainResult' },
      result: { name: 'RemoveAcceptedDomainSuccess' },
      dataField: { name: 'tenant' },
    },
    resolve: async (_root, { input }, { services, viewer }) => {
      await services.tenantAdmin.removeDomain({ tenantId: viewer.tenantId, actor: actorOf(viewer), domain: input.domain });
      return tenantOf(services, viewer.tenantId);
    },
  }),
);
