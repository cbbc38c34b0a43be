import { AlertPolicyNotFoundError } from '../../domain/alerts/errors.ts';
import { dailyNotificationLimits, type AlertPolicyView } from '../../domain/alerts/alert-policy-service.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { listSize } from '../list-size.ts';
import { refuseNulls } from '../null-inputs.ts';

export const AlertKindEnum = builder.enumType('AlertKind', {
  values: {
    USER_RESTRICTED: { value: 'UserRestricted', description: 'A user (or connector) was restricted from sending email.' },
    SENDING_LIMIT_EXCEEDED: { value: 'SendingLimitExceeded', description: 'A sender crossed a limit whose action is Alert.' },
    SENDING_LIMIT_NEARLY_REACHED: { value: 'SendingLimitNearlyReached', description: 'A sender passed the warning share of a limit.' },
  } as const,
});

export const AlertSeverityEnum = builder.enumType('AlertSeverity', {
  values: { LOW: { value: 'Low' }, MEDIUM: { value: 'Medium' }, HIGH: { value: 'High' } } as const,
});

const InactiveReasonEnum = builder.enumType('AlertPolicyInactiveReason', {
  values: {
    POLICY_DISABLED: { value: 'PolicyDisabled', description: 'The policy is turned off.' },
    AUDIT_LOG_DISABLED: { value: 'AuditLogDisabled', description: "The tenant's audit log is off; alerts are raised only while it is on." },
  } as const,
});

export const AlertPolicyRef = builder.loadableNode('AlertPolicy', {
  description: 'What raises alerts and who hears about them. The default policies cannot be deleted; only status, e-mail, recipients and the daily limit change.',
  id: { resolve: (p: AlertPolicyView) => p.id },
  load: (ids: string[], ctx) => ctx.services.alertPolicies.byIds(ctx.viewer.tenantId, ids),
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.field({ type: AlertKindEnum, resolve: (p) => p.kind }),
    severity: t.field({ type: AlertSeverityEnum, resolve: (p) => p.severity }),
    isDefault: t.exposeBoolean('isDefault'),
    enabled: t.exposeBoolean('enabled', { description: 'The policy status: on or off.' }),
    active: t.exposeBoolean('active', { description: 'Whether the policy raises alerts right now (on, and the audit log is on).' }),
    inactiveReason: t.field({ type: InactiveReasonEnum, nullable: true, resolve: (p) => p.inactiveReason }),
    inactiveExplanation: t.exposeString('inactiveExplanation', { nullable: true }),
    emailEnabled: t.exposeBoolean('emailEnabled'),
    recipients: t.exposeStringList('recipients', { description: '`TenantAdmins` (the Global Administrators whose principal id is an address) and e-mail addresses.' }),
    dailyNotificationLimit: t.exposeInt('dailyNotificationLimit', { nullable: true, description: 'Notifications per UTC day; null = no limit.' }),
    thresholdPercent: t.exposeInt('thresholdPercent', { nullable: true, description: 'Sending limit nearly reached: the share of a limit that raises it.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('alertPolicies', (t) =>
  t.field({
    type: [AlertPolicyRef],
    authScopes: { read: true },
    description: "The tenant's alert policies, by name, each saying whether it is active and why not.",
    extensions: listSize({ max: 20 }),
    resolve: (_root, _args, { services, viewer }) => services.alertPolicies.list(viewer.tenantId),
  }),
);

const UpdateAlertPolicyInput = builder.inputType('UpdateAlertPolicyInput', {
  description: 'Omitted fields stay as they are; null is a ValidationError, except for dailyNotificationLimit.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The policy, e.g. "User restricted from sending email".' }),
    enabled: t.boolean(),
    emailEnabled: t.boolean(),
    recipients: t.stringList({ description: '`TenantAdmins` and/or e-mail addresses (at most 50).' }),
    dailyNotificationLimit: t.int({ description: `One of ${dailyNotificationLimits.filter((n) => n !== null).join(', ')}; null = no limit.` }),
  }),
});

builder.mutationField('updateAlertPolicy', (t) =>
  t.field({
    type: AlertPolicyRef,
    authScopes: { manage: true },
    description: 'Changes the status, e-mail notifications, recipients or daily notification limit of an alert policy. Audited.',
    args: { input: t.arg({ type: UpdateAlertPolicyInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateAlertPolicyResult' }, result: { name: 'UpdateAlertPolicySuccess' }, dataField: { name: 'alertPolicy' } },
    resolve: async (_root, { input }, { services, viewer }) => {
      // dailyNotificationLimit's null means no limit; the others have no "none".
      refuseNulls({ enabled: input.enabled, emailEnabled: input.emailEnabled, recipients: input.recipients });
      const result = await services.alertPolicies.update({
        tenantId: viewer.tenantId,
        policy: input.name,
        enabled: input.enabled ?? undefined,
        emailEnabled: input.emailEnabled ?? undefined,
        recipients: input.recipients ?? undefined,
        dailyNotificationLimit: input.dailyNotificationLimit,
        actor: actorOf(viewer),
      });
      if (result.ok) return result.policy;
      throw result.error instanceof AlertPolicyNotFoundError ? new NotFoundError('AlertPolicy', input.name) : result.error;
    },
  }),
);
