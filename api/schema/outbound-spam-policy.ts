import type { OutboundSpamPolicy } from '../../db/repos/outbound-spam-policies.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { listSize } from '../list-size.ts';
import { refuseNulls } from '../null-inputs.ts';
import { ruleOfPolicy } from './policy-rule-loader.ts';
import { RestrictedUser } from './restricted-user.ts';

export const ThresholdActionEnum = builder.enumType('ThresholdAction', {
  description: 'What happens when a sender crosses a limit of the policy.',
  values: {
    BLOCK_USER_FOR_TODAY: { value: 'BlockUserForToday', description: 'Restrict the sender until 00:00 UTC of the next day (the default).' },
    BLOCK_USER: { value: 'BlockUser', description: 'Restrict the sender until an admin releases it.' },
    ALERT: { value: 'Alert', description: 'Do not restrict; raise an "Email sending limit exceeded" alert.' },
  } as const,
});

export const OutboundSpamPolicyRef = builder.loadableNode('OutboundSpamPolicy', {
  description: 'Outbound spam policy (HostedOutboundSpamFilterPolicy): recipient limits and the action when one is crossed. 0 = the service default.',
  id: { resolve: (p: OutboundSpamPolicy) => p.id },
  load: (ids: string[], ctx) => ctx.services.policies.byIds(ctx.viewer.tenantId, ids),
  sort: (p) => p.id,
  fields: (t) => ({
    name: t.exposeString('name'),
    isDefault: t.exposeBoolean('isDefault', { description: 'The tenant\'s default policy ("Default"): applies when no rule matches; cannot be deleted.' }),
    recipientLimitExternalPerHour: t.exposeInt('recipientLimitExternalPerHour'),
    recipientLimitInternalPerHour: t.exposeInt('recipientLimitInternalPerHour'),
    recipientLimitPerDay: t.exposeInt('recipientLimitPerDay'),
    actionWhenThresholdReached: t.field({ type: ThresholdActionEnum, resolve: (p) => p.actionWhenThresholdReached }),
    notifyOutboundSpamRecipients: t.exposeStringList('notifyOutboundSpamRecipients'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.objectField(RestrictedUser, 'policy', (t) =>
  t.field({
    type: OutboundSpamPolicyRef,
    nullable: true,
    description: 'The policy that applied, as it is now (null if none applied or it was deleted since; see policyName).',
    resolve: (r) => r.policyId,
  }),
);

builder.queryField('outboundSpamPolicies', (t) =>
  t.field({
    type: [OutboundSpamPolicyRef],
    authScopes: { read: true },
    description: 'In evaluation order: policies with rules by rule priority, then the rest, the default policy last.',
    extensions: listSize({ max: 100 }),
    resolve: (_root, _args, { services, viewer }) => services.policies.list(viewer.tenantId),
  }),
);

const limitsDoc = 'A whole number from 0 (the service default) to 10000.';

const CreatePolicyInput = builder.inputType('CreateOutboundSpamPolicyInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'At most 64 characters, none of \\ % & * + / = ? { } | < > ( ) ; : [ ] , "' }),
    recipientLimitExternalPerHour: t.int({ description: limitsDoc }),
    recipientLimitInternalPerHour: t.int({ description: limitsDoc }),
    recipientLimitPerDay: t.int({ description: limitsDoc }),
    actionWhenThresholdReached: t.field({ type: ThresholdActionEnum }),
    notifyOutboundSpamRecipients: t.stringList(),
  }),
});

const UpdatePolicyInput = builder.inputType('UpdateOutboundSpamPolicyInput', {
  description: 'Names the policy to change (the default one is "Default"); fields left out stay as they are (null is a ValidationError).',
  fields: (t) => ({
    name: t.string({ required: true }),
    recipientLimitExternalPerHour: t.int({ description: limitsDoc }),
    recipientLimitInternalPerHour: t.int({ description: limitsDoc }),
    recipientLimitPerDay: t.int({ description: limitsDoc }),
    actionWhenThresholdReached: t.field({ type: ThresholdActionEnum }),
    notifyOutboundSpamRecipients: t.stringList(),
  }),
});

const DeletePolicyInput = builder.inputType('DeleteOutboundSpamPolicyInput', { fields: (t) => ({ name: t.string({ required: true }) }) });

type SettingsArg = {
  recipientLimitExternalPerHour?: number | null;
  recipientLimitInternalPerHour?: number | null;
  recipientLimitPerDay?: number | null;
  actionWhenThresholdReached?: OutboundSpamPolicy['actionWhenThresholdReached'] | null;
  notifyOutboundSpamRecipients?: string[] | null;
};

const settingsOf = (i: SettingsArg) => ({
  recipientLimitExternalPerHour: i.recipientLimitExternalPerHour ?? undefined,
  recipientLimitInternalPerHour: i.recipientLimitInternalPerHour ?? undefined,
  recipientLimitPerDay: i.recipientLimitPerDay ?? undefined,
  actionWhenThresholdReached: i.actionWhenThresholdReached ?? undefined,
  notifyOutboundSpamRecipients: i.notifyOutboundSpamRecipients ?? undefined,
});

const resultNames = (name: string) => ({ union: { name: `${name}Result` }, result: { name: `${name}Success` }, dataField: { name: 'policy' } });

builder.mutationField('createOutboundSpamPolicy', (t) =>
  t.field({
    type: OutboundSpamPolicyRef,
    authScopes: { manage: true },
    args: { input: t.arg({ type: CreatePolicyInput, required: true }) },
    errors: { types: [ValidationError], ...resultNames('CreateOutboundSpamPolicy') },
    resolve: (_root, { input }, { services, viewer }) => services.policies.create({ tenantId: viewer.tenantId, actor: actorOf(viewer), name: input.name, settings: settingsOf(input) }),
  }),
);

builder.mutationField('updateOutboundSpamPolicy', (t) =>
  t.field({
    type: OutboundSpamPolicyRef,
    authScopes: { manage: true },
    args: { input: t.arg({ type: UpdatePolicyInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], ...resultNames('UpdateOutboundSpamPolicy') },
    resolve: (_root, { input }, { services, viewer }) => {
      refuseNulls(input);
      return services.policies.update({ tenantId: viewer.tenantId, actor: actorOf(viewer), name: input.name, settings: settingsOf(input) });
    },
  }),
);

builder.mutationField('deleteOutboundSpamPolicy', (t) =>
  t.field({
    type: OutboundSpamPolicyRef,
    authScopes: { manage: true },
    description: 'Deletes a policy and its rule; the default policy cannot be deleted. Returns the deleted policy, with its rule, as they were.',
    args: { input: t.arg({ type: DeletePolicyInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], ...resultNames('DeleteOutboundSpamPolicy') },
    resolve: async (_root, { input }, ctx) => {
      const { policy, rule } = await ctx.services.policies.remove({ tenantId: ctx.viewer.tenantId, actor: actorOf(ctx.viewer), name: input.name });
      // Gone from the database: the rest of this response reads them as they were.
      OutboundSpamPolicyRef.getDataloader(ctx).prime(policy.id, policy);
      ruleOfPolicy(ctx).prime(policy.id, rule ?? null);
      return policy;
    },
  }),
);
