import type { SenderCounts } from '../../db/repos/sending-counters.ts';
import type { LimitUsage, SenderActivity } from '../../domain/enforcement/sender-activity.ts';
import { validSenderKey } from '../../domain/policies/policy-validation.ts';
import type { MatchedCondition } from '../../domain/policies/select-policy.ts';
import { builder } from '../builder.ts';
import { listSize } from '../list-size.ts';
import { OutboundSpamPolicyRef } from './outbound-spam-policy.ts';
import { OutboundSpamRuleRef } from './outbound-spam-rule.ts';
import { RestrictedUser } from './restricted-user.ts';

const SendingLimitEnum = builder.enumType('SendingLimit', {
  values: {
    RECIPIENT_LIMIT_EXTERNAL_PER_HOUR: { value: 'RecipientLimitExternalPerHour', description: 'External recipients in the last hour (policy).' },
    RECIPIENT_LIMIT_INTERNAL_PER_HOUR: { value: 'RecipientLimitInternalPerHour', description: 'Internal recipients in the last hour (policy).' },
    RECIPIENT_LIMIT_PER_DAY: { value: 'RecipientLimitPerDay', description: 'Recipients in the last 24 hours (policy).' },
    SERVICE_RECIPIENTS_PER_DAY: { value: 'ServiceRecipientsPerDay', description: 'Recipients in the last 24 hours (service limit; clears by itself).' },
    MESSAGES_PER_MINUTE: { value: 'MessagesPerMinute', description: 'Messages this minute (over it: a temporary 451 deferral, never a restriction).' },
  } as const,
});

const RuleConditionEnum = builder.enumType('RuleCondition', {
  values: { FROM: { value: 'from' }, FROM_MEMBER_OF: { value: 'fromMemberOf' }, SENDER_DOMAIN_IS: { value: 'senderDomainIs' } } as const,
});

const MatchedConditionRef = builder.objectRef<MatchedCondition>('MatchedCondition').implement({
  fields: (t) => ({ condition: t.field({ type: RuleConditionEnum, resolve: (m) => m.kind }), value: t.exposeString('value') }),
});

const LimitUsageRef = builder.objectRef<LimitUsage>('LimitUsage').implement({
  description: 'One window: the count now against the limit that applies.',
  fields: (t) => ({
    limit: t.field({ type: SendingLimitEnum, resolve: (u) => u.limit }),
    value: t.exposeInt('value', { description: 'The limit that applies (a policy value of 0 already replaced by the service default).' }),
    count: t.exposeInt('count'),
    remaining: t.int({ resolve: (u) => Math.max(0, u.value - u.count) }),
    serviceDefault: t.exposeBoolean('serviceDefault', { description: "The value is the service's, not the policy's own." }),
  }),
});

const SenderCountsRef = builder.objectRef<SenderCounts>('SenderCounts').implement({
  description: 'Recipients counted in the rolling windows enforcement uses.',
  fields: (t) => ({
    internalLastHour: t.exposeInt('internalLastHour'),
    externalLastHour: t.exposeInt('externalLastHour'),
    internalLast24Hours: t.exposeInt('internalLast24Hours'),
    externalLast24Hours: t.exposeInt('externalLast24Hours'),
    allLast24Hours: t.exposeInt('allLast24Hours', { description: 'Every recipient in 24 hours, including before a lifted restriction (the service limit).' }),
    messagesThisMinute: t.exposeInt('messagesThisMinute'),
    countedSince: t.expose('countedSince', { type: 'DateTime', nullable: true, description: 'Counting restarted then, because a limit restriction ended.' }),
  }),
});

const SenderActivityRef = builder.objectRef<SenderActivity>('SenderActivity').implement({
  description: 'What enforcement sees for a sender now: counts per window against the limits that apply, and which policy applies and why.',
  fields: (t) => ({
    senderAddress: t.exposeString('sender'),
    policy: t.field({ type: OutboundSpamPolicyRef, resolve: (a) => a.policy.id }),
    rule: t.field({ type: OutboundSpamRuleRef, nullable: true, description: 'The rule that chose the policy; null when the default policy applies.', resolve: (a) => a.rule?.id ?? null }),
    // One matched value per condition kind (from, fromMemberOf, senderDomainIs).
    matchedConditions: t.field({ type: [MatchedConditionRef], extensions: listSize({ max: 3 }), resolve: (a) => a.matchedConditions }),
    appliesBecause: t.exposeString('appliesBecause'),
    counts: t.field({ type: SenderCountsRef, resolve: (a) => a.counts }),
    // One per sending limit.
    usage: t.field({ type: [LimitUsageRef], extensions: listSize({ max: 5 }), resolve: (a) => a.usage }),
    recipientsPerMessage: t.exposeInt('recipientsPerMessage', { description: 'Recipients allowed in one message (over it: 452 4.5.3).' }),
    restricted: t.exposeBoolean('restricted'),
    restrictedUser: t.field({ type: RestrictedUser, nullable: true, resolve: (a) => a.restriction }),
  }),
});

builder.queryField('senderActivity', (t) =>
  t.field({
    type: SenderActivityRef,
    authScopes: { read: true },
    args: { senderAddress: t.arg.string({ required: true, description: 'The counted identity: a sender address, or the SASL user name of an authenticated submitter.' }) },
    resolve: (_root, { senderAddress }, { services, viewer }) => services.enforcement.getSenderActivity(viewer.tenantId, validSenderKey('senderAddress', senderAddress)),
  }),
);
