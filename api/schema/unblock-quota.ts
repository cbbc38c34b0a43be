import type { UnblockQuota } from '../../domain/unblock/unblock-service.ts';
import { builder } from '../builder.ts';
import { RestrictedUser } from './restricted-user.ts';

const UnblockQuotaRef = builder.objectRef<UnblockQuota>('UnblockQuota').implement({
  description: "How often the sender may still be released: releases in the rolling window against the tenant's quota.",
  fields: (t) => ({
    used: t.exposeInt('used', { description: 'Releases of this sender inside the window.' }),
    limit: t.exposeInt('limit', { nullable: true, description: 'At most this many releases in the window; null when the tenant has no quota.' }),
    windowDays: t.exposeInt('windowDays', { description: 'The rolling window, in days.' }),
    resetsAt: t.expose('resetsAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the quota is used up: when the next release is possible. Otherwise when the oldest counted release leaves the window. Null when none is counted.',
    }),
  }),
});

builder.objectField(RestrictedUser, 'unblockQuota', (t) =>
  t.loadable({
    type: UnblockQuotaRef,
    description: "The sender's unblock quota now (the same count the unblockUser mutation checks).",
    load: (keys: string[], ctx) => ctx.services.unblock.quotas(ctx.viewer.tenantId, 'user', keys),
    resolve: (r) => r.entityKey,
  }),
);
