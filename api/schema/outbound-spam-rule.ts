import type { OutboundSpamRule } from '../../db/repos/outbound-spam-policies.ts';
import type { RuleSettings } from '../../domain/policies/rule-input.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { refuseNulls } from '../null-inputs.ts';
import { OutboundSpamPolicyRef } from './outbound-spam-policy.ts';
import { ruleOfPolicy } from './policy-rule-loader.ts';

export const OutboundSpamRuleRef = builder.loadableNode('OutboundSpamRule', {
  description:
    'Who a policy applies to (HostedOutboundSpamFilterRule). Values within one condition OR together, different conditions AND, any exception excludes; the first matching enabled rule wins.',
  id: { resolve: (r: OutboundSpamRule) => r.id },
  load: (ids: string[], ctx) => ctx.services.policies.rulesByIds(ctx.viewer.tenantId, ids),
  sort: (r) => r.id,
  fields: (t) => ({
    name: t.exposeString('name'),
    priority: t.exposeInt('priority', { description: '0 is evaluated first.' }),
    enabled: t.exposeBoolean('enabled'),
    policy: t.field({ type: OutboundSpamPolicyRef, resolve: (r) => r.policyId }),
    from: t.exposeStringList('from'),
    fromMemberOf: t.exposeStringList('fromMemberOf'),
    senderDomainIs: t.exposeStringList('senderDomainIs', { description: 'Subdomains included.' }),
    exceptIfFrom: t.exposeStringList('exceptIfFrom'),
    exceptIfFromMemberOf: t.exposeStringList('exceptIfFromMemberOf'),
    exceptIfSenderDomainIs: t.exposeStringList('exceptIfSenderDomainIs'),
    comments: t.exposeString('comments', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.objectField(OutboundSpamPolicyRef, 'rule', (t) =>
  t.field({
    type: OutboundSpamRuleRef,
    nullable: true,
    description: 'The rule that selects this policy; null for the default policy and for a policy not yet in use. On a policy just deleted, the rule deleted with it.',
    resolve: (policy, _args, ctx) => ruleOfPolicy(ctx).load(policy.id),
  }),
);


const CreateRuleInput = builder.inputType('CreateOutboundSpamRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    policyName: t.string({ required: true, description: 'The (non-default) policy this rule applies; one rule per policy.' }),
    priority: t.int({ description: 'From 0 to the number of rules; the rules at and below it move down one. Default: last.' }),
    enabled: t.boolean({ defaultValue: true }),
    from: t.stringList(),
    fromMemberOf: t.stringList(),
    senderDomainIs: t.stringList(),
    exceptIfFrom: t.stringList(),
    exceptIfFromMemberOf: t.stringList(),
    exceptIfSenderDomainIs: t.stringList(),
    comments: t.string(),
  }),
});

const UpdateRuleInput = builder.inputType('UpdateOutboundSpamRuleInput', {
  description: 'Names the rule to change; lists given replace the old ones, fields left out stay as they are (null is a ValidationError).',
  fields: (t) => ({
    name: t.string({ required: true }),
    priority: t.int({ description: 'From 0 to the number of rules minus one; the rules in between shift by one.' }),
    enabled: t.boolean(),
    from: t.stringList(),
    fromMemberOf: t.stringList(),
    senderDomainIs: t.stringList(),
    exceptIfFrom: t.stringList(),
    exceptIfFromMemberOf: t.stringList(),
    exceptIfSenderDomainIs: t.stringList(),
    comments: t.string({ description: 'At most 1000 characters; "" clears them.' }),
  }),
});

const DeleteRuleInput = builder.inputType('DeleteOutboundSpamRuleInput', { fields: (t) => ({ name: t.string({ required: true }) }) });

type RuleArg = { [K in keyof RuleSettings]?: RuleSettings[K] | null };

function settingsOf(input: RuleArg): RuleSettings {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as RuleSettings;
}

const resultNames = (name: string) => ({ union: { name: `${name}Result` }, result: { name: `${name}Success` }, dataField: { name: 'rule' } });

builder.mutationField('createOutboundSpamRule', (t) =>
  t.field({
    type: OutboundSpamRuleRef,
    authScopes: { manage: true },
    args: { input: t.arg({ type: CreateRuleInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], ...resultNames('CreateOutboundSpamRule') },
    resolve: (_root, { input: { name, policyName, ...rest } }, { services, viewer }) =>
      services.rules.create({ tenantId: viewer.tenantId, actor: actorOf(viewer), name, policyName, settings: settingsOf(rest) }),
  }),
);

builder.mutationField('updateOutboundSpamRule', (t) =>
  t.field({
    type: OutboundSpamRuleRef,
    authScopes: { manage: true },
    args: { input: t.arg({ type: UpdateRuleInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], ...resultNames('UpdateOutboundSpamRule') },
    resolve: (_root, { input: { name, ...rest } }, { services, viewer }) => {
      refuseNulls(rest, { comments: 'give "" to clear it' });
      return services.rules.update({ tenantId: viewer.tenantId, actor: actorOf(viewer), name, settings: settingsOf(rest) });
    },
  }),
);

builder.mutationField('deleteOutboundSpamRule', (t) =>
  t.field({
    type: OutboundSpamRuleRef,
    authScopes: { manage: true },
    description: 'Deletes a rule (its policy then applies to nobody); the rules below move up one. Returns the deleted rule.',
    args: { input: t.arg({ type: DeleteRuleInput, required: true }) },
    errors: { types: [NotFoundError], ...resultNames('DeleteOutboundSpamRule') },
    resolve: (_root, { input }, { services, viewer }) => services.rules.remove({ tenantId: viewer.tenantId, actor: actorOf(viewer), name: input.name }),
  }),
);
