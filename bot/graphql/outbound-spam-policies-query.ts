import { z } from 'zod';
import type { OutboundSpamPolicy, PolicyConditions, ThresholdAction } from '../cards/types.ts';
import { typedDocument } from './graphql-client.ts';
import { apiViewer, viewerFields } from './restriction-fields.ts';

const actionOf = { BLOCK_USER_FOR_TODAY: 'BlockUserForToday', BLOCK_USER: 'BlockUser', ALERT: 'Alert' } as const satisfies Record<string, ThresholdAction>;

const rule = z.object({
  priority: z.number().int(),
  enabled: z.boolean(),
  from: z.array(z.string()),
  fromMemberOf: z.array(z.string()),
  senderDomainIs: z.array(z.string()),
  exceptIfFrom: z.array(z.string()),
  exceptIfFromMemberOf: z.array(z.string()),
  exceptIfSenderDomainIs: z.array(z.string()),
});

function conditionsOf(r: z.output<typeof rule>): PolicyConditions {
  return { from: r.from, fromMemberOf: r.fromMemberOf, senderDomainIs: r.senderDomainIs, exceptIfFrom: r.exceptIfFrom, exceptIfFromMemberOf: r.exceptIfFromMemberOf, exceptIfSenderDomainIs: r.exceptIfSenderDomainIs };
}

const policy = z
  .object({
    name: z.string(),
    isDefault: z.boolean(),
    recipientLimitExternalPerHour: z.number().int(),
    recipientLimitInternalPerHour: z.number().int(),
    recipientLimitPerDay: z.number().int(),
    actionWhenThresholdReached: z.enum(Object.keys(actionOf) as [keyof typeof actionOf]),
    notifyOutboundSpamRecipients: z.array(z.string()),
    rule: rule.nullable(),
  })
  .transform(
    (p): OutboundSpamPolicy => ({
      name: p.name,
      isDefault: p.isDefault,
      // A policy without a rule applies to nobody; the default policy applies to everyone else.
      enabled: p.isDefault || (p.rule?.enabled ?? false),
      priority: p.isDefault ? null : (p.rule?.priority ?? null),
      recipientLimitExternalPerHour: p.recipientLimitExternalPerHour,
      recipientLimitInternalPerHour: p.recipientLimitInternalPerHour,
      recipientLimitPerDay: p.recipientLimitPerDay,
      actionWhenThresholdReached: actionOf[p.actionWhenThresholdReached],
      notify: p.notifyOutboundSpamRecipients,
      conditions: p.rule ? conditionsOf(p.rule) : null,
    }),
  );

const data = z.object({ viewer: apiViewer, outboundSpamPolicies: z.array(policy) });

/** The outbound spam policies in evaluation order, each with the rule that selects it. */
export const outboundSpamPoliciesQuery = typedDocument<z.output<typeof data>, Record<string, never>>(
  'BotOutboundSpamPolicies',
  `query BotOutboundSpamPolicies {
  ${viewerFields}
  outboundSpamPolicies {
    name isDefault recipientLimitExternalPerHour recipientLimitInternalPerHour recipientLimitPerDay actionWhenThresholdReached notifyOutboundSpamRecipients
    rule { priority enabled from fromMemberOf senderDomainIs exceptIfFrom exceptIfFromMemberOf exceptIfSenderDomainIs }
  }
}`,
  data,
);
