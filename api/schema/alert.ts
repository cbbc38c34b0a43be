import type { Alert, Notification } from '../../db/repos/alerts.ts';
import { isAlertEvent, type AlertEventPayload, type AlertEventType } from '../../domain/alerts/alert-events.ts';
import { parseAlertDetails, type AlertDetails } from '../../domain/alerts/alert-signals.ts';
import { AlertNotFoundError, AlertStatusTransitionError } from '../../domain/alerts/errors.ts';
import type { StoredEvent } from '../../domain/events/event-types.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { reasonCodes, type ReasonCode } from '../../domain/restrictions/restriction-service.ts';
import { canonicalAddress } from '../../domain/mail-address.ts';
import { validSenderKey } from '../../domain/policies/policy-validation.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE, MAX_NOTIFICATIONS } from '../../domain/alerts/alert-queries.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { resumePoint, tenantEventStream } from '../event-stream.ts';
import { rowIdOf } from '../global-id.ts';
import { boundedFirst, listSize, pageSize } from '../list-size.ts';
import { AlertKindEnum, AlertPolicyRef, AlertSeverityEnum } from './alert-policy.ts';
import { toConnection } from './connection.ts';
import { ErrorInterface } from './errors.ts';
import { RestrictedUser } from './restricted-user.ts';
import { RestrictionReasonEnum } from './restriction-enums.ts';

export const AlertStatusEnum = builder.enumType('AlertStatus', {
  values: {
    NEW: { value: 'New' },
    IN_PROGRESS: { value: 'InProgress' },
    RESOLVED: { value: 'Resolved' },
  } as const,
});

const NotificationChannelEnum = builder.enumType('NotificationChannel', { values: { EMAIL: { value: 'email' }, TEAMS: { value: 'teams' } } as const });

const NotificationStatusEnum = builder.enumType('NotificationStatus', {
  values: {
    PENDING: { value: 'Pending', description: 'Waiting for delivery (or for the next retry).' },
    SENDING: { value: 'Sending', description: 'A worker is delivering it.' },
    SENT: { value: 'Sent', description: 'The mail server (or Teams) accepted it.' },
    FAILED: { value: 'Failed', description: 'Refused for good (e.g. no such mailbox).' },
    SUPPRESSED: { value: 'Suppressed', description: "Over the policy's daily notification limit." },
  } as const,
});

const AlertNotificationRef = builder.objectRef<Notification>('AlertNotification').implement({
  description: 'One e-mail or Teams message about an alert.',
  fields: (t) => ({
    channel: t.field({ type: NotificationChannelEnum, resolve: (n) => n.channel }),
    recipient: t.exposeString('recipient', { description: 'An e-mail address, or a Teams conversation id.' }),
    status: t.field({ type: NotificationStatusEnum, resolve: (n) => n.status }),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
  }),
});

const knownReason = (code: string | null): ReasonCode | null => (reasonCodes.find((c) => c === code) ?? null);
const dateOf = (iso: string | null): Date | null => (iso === null || Number.isNaN(Date.parse(iso)) ? null : new Date(iso));
const extendedBy = (d: AlertDetails): string | null => (d.extendedAt ? d.actorName : null);

export const AlertRef = builder.loadableNode('Alert', {
  description: 'An alert raised by an alert policy; repeats within the aggregation interval raise its hit count.',
  id: { resolve: (a: Alert) => a.id },
  load: (ids: string[], ctx) => ctx.services.alertQueries.byIds(ctx.viewer.tenantId, ids),
  fields: (t) => ({
    kind: t.field({ type: AlertKindEnum, resolve: (a) => a.kind }),
    severity: t.field({ type: AlertSeverityEnum, resolve: (a) => a.severity }),
    status: t.field({ type: AlertStatusEnum, resolve: (a) => a.status }),
    title: t.exposeString('title'),
    entityKind: t.exposeString('entityKind', { description: '`user` or `connector`.' }),
    entityKey: t.exposeString('entityKey', { description: 'The sender address, or the connector id.' }),
    policy: t.field({ type: AlertPolicyRef, resolve: (a) => a.policyId }),
    restrictedUser: t.field({
      type: RestrictedUser,
      nullable: true,
      description: 'The restriction this alert is about (user restrictions).',
      resolve: (a) => (a.entityKind === 'user' && a.restrictionId ? a.restrictionId : null),
    }),
    restrictionId: t.globalID({
      nullable: true,
      description: 'The restriction this alert is about (users and connectors): a RestrictedUser or RestrictedConnector id, as `node` and `unblockUser` take.',
      resolve: (a) => (a.restrictionId ? { id: a.restrictionId, type: a.entityKind === 'user' ? 'RestrictedUser' : 'RestrictedConnector' } : null),
    }),
    exceededLimit: t.string({ nullable: true, resolve: (a) => parseAlertDetails(a.details).exceededLimit }),
    limitValue: t.int({ nullable: true, resolve: (a) => parseAlertDetails(a.details).limitValue }),
    count: t.int({ nullable: true, description: 'Recipients counted against the limit.', resolve: (a) => parseAlertDetails(a.details).count }),
    internalRecipientCount: t.int({ resolve: (a) => parseAlertDetails(a.details).internalRecipientCount }),
    externalRecipientCount: t.int({ resolve: (a) => parseAlertDetails(a.details).externalRecipientCount }),
    outboundSpamPolicy: t.string({ nullable: true, resolve: (a) => parseAlertDetails(a.details).policyName }),
    thresholdPercent: t.int({ nullable: true, resolve: (a) => parseAlertDetails(a.details).thresholdPercent }),
    reasonCode: t.field({
      type: RestrictionReasonEnum,
      nullable: true,
      description: 'Why the sender is restricted (restriction alerts), as of the latest occurrence or extension.',
      resolve: (a) => knownReason(parseAlertDetails(a.details).reasonCode),
    }),
    restrictionDetails: t.string({ nullable: true, description: 'What the admin who restricted (or extended) it wrote.', resolve: (a) => parseAlertDetails(a.details).restrictionDetails }),
    temporary: t.boolean({ nullable: true, description: 'Whether the restriction ends by itself (at expiresAt).', resolve: (a) => parseAlertDetails(a.details).temporary }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'When a temporary restriction ends.', resolve: (a) => dateOf(parseAlertDetails(a.details).expiresAt) }),
    extendedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When an admin last made the restriction last longer (the other fields then tell of the longer block).',
      resolve: (a) => dateOf(parseAlertDetails(a.details).extendedAt),
    }),
    extendedBy: t.string({ nullable: true, description: 'The admin who last made the restriction last longer.', resolve: (a) => extendedBy(parseAlertDetails(a.details)) }),
    hitCount: t.exposeInt('hitCount'),
    firstSeenAt: t.expose('firstSeenAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
    statusChangedBy: t.exposeString('statusChangedBy', { nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    notifications: t.field({
      type: [AlertNotificationRef],
      description: `By channel and recipient: the first \`first\` of them, at most ${MAX_NOTIFICATIONS}.`,
      args: { first: t.arg.int({ defaultValue: MAX_NOTIFICATIONS }) },
      extensions: listSize({ max: MAX_NOTIFICATIONS, slicingArguments: ['first'] }),
      resolve: (a, { first }, { services, viewer }) => services.alertQueries.notifications(viewer.tenantId, a.id, boundedFirst(first, MAX_NOTIFICATIONS)),
    }),
  }),
});

const AlertFilterInput = builder.inputType('AlertFilter', {
  fields: (t) => ({
    status: t.field({ type: [AlertStatusEnum] }),
    severity: t.field({ type: [AlertSeverityEnum] }),
    kind: t.field({ type: [AlertKindEnum] }),
    entityKey: t.string({
      description: 'The sender address (in any spelling of it: case, an IDN in UTF-8) or the connector id, exactly. One with white space or control characters is BAD_USER_INPUT; empty lists every one.',
    }),
    from: t.field({ type: 'DateTime', description: 'First seen at or after.' }),
    to: t.field({ type: 'DateTime', description: 'First seen at or before.' }),
  }),
});

builder.queryField('alerts', (t) =>
  t.connection(
    {
      type: AlertRef,
      authScopes: { read: true },
      description: 'Alerts, newest first; at most 100 per page.',
      extensions: pageSize(MAX_ALERT_PAGE, DEFAULT_ALERT_PAGE),
      args: { filter: t.arg({ type: AlertFilterInput }) },
      resolve: async (_root, args, { services, viewer }) => {
        const f = args.filter;
        const filter = {
          statuses: f?.status ?? undefined,
          severities: f?.severity ?? undefined,
          kinds: f?.kind ?? undefined,
          entityKey: f?.entityKey?.trim() ? canonicalAddress(validSenderKey('entityKey', f.entityKey)) : undefined,
          from: f?.from ?? undefined,
          to: f?.to ?? undefined,
        };
        return toConnection(await services.alertQueries.list(viewer.tenantId, filter, args));
      },
    },
    { name: 'AlertConnection' },
    { name: 'AlertEdge' },
  ),
);

builder.objectType(AlertStatusTransitionError, {
  name: 'AlertStatusTransitionError',
  description: 'Alerts only move forward: New → InProgress → Resolved.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    from: t.field({ type: AlertStatusEnum, resolve: (e) => e.from as Alert['status'] }),
    to: t.field({ type: AlertStatusEnum, resolve: (e) => e.to as Alert['status'] }),
  }),
});

const UpdateAlertStatusInput = builder.inputType('UpdateAlertStatusInput', {
  // Decoded in the resolver, so a malformed id is a ValidationError result like an id of another type.
  fields: (t) => ({ id: t.id({ required: true }), status: t.field({ type: AlertStatusEnum, required: true }) }),
});

builder.mutationField('updateAlertStatus', (t) =>
  t.field({
    type: AlertRef,
    authScopes: { manage: true },
    description: 'Moves an alert forward (New → InProgress → Resolved). Audited; the same status again changes nothing.',
    args: { input: t.arg({ type: UpdateAlertStatusInput, required: true }) },
    errors: {
      types: [NotFoundError, AlertStatusTransitionError, ValidationError],
      union: { name: 'UpdateAlertStatusResult' },
      result: { name: 'UpdateAlertStatusSuccess' },
      dataField: { name: 'alert' },
    },
    resolve: async (_root, { input }, { services, viewer }) => {
      const alertId = rowIdOf(String(input.id), 'Alert', 'id', 'the id is not an alert id');
      const result = await services.alerts.updateAlertStatus({ tenantId: viewer.tenantId, alertId, status: input.status, actor: actorOf(viewer) });
      if (result.ok) return result.alert;
      throw result.error instanceof AlertNotFoundError ? new NotFoundError('Alert', String(input.id)) : result.error;
    },
  }),
);

const AlertEventTypeEnum = builder.enumType('AlertEventType', {
  values: { RAISED: { value: 'AlertRaised', description: 'A new alert.' }, UPDATED: { value: 'AlertUpdated', description: 'A repeat raised its hit count, an admin made its restriction last longer (extendedAt), or its status changed.' } } as const,
});

const payloadOf = (e: StoredEvent) => e.payload as unknown as AlertEventPayload;

const AlertEventRef = builder.objectRef<StoredEvent>('AlertEvent').implement({
  description: 'An alert was raised or changed.',
  fields: (t) => ({
    eventId: t.id({ description: 'Resume after it with afterEventId or the SSE Last-Event-ID header.', resolve: (e) => String(e.id) }),
    type: t.field({ type: AlertEventTypeEnum, resolve: (e) => e.type as AlertEventType }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    // Read fresh for every event: a subscription's context (and its loader cache) lives for hours.
    alert: t.field({ type: AlertRef, nullable: true, description: 'The alert as it is now.', resolve: async (e, _a, ctx) => (await ctx.services.alertQueries.byId(ctx.viewer.tenantId, payloadOf(e).alertId)) ?? null }),
  }),
});

const AlertEventFilterInput = builder.inputType('AlertEventFilter', {
  fields: (t) => ({ severity: t.field({ type: [AlertSeverityEnum] }), kind: t.field({ type: [AlertKindEnum] }) }),
});

/** The tenant's alert events after `afterId` (missed ones from the table, then live ones), in order, each once. */
function alertEventStream(ctx: GraphQLContext, afterId: number | undefined, filter: { severity?: string[] | null; kind?: string[] | null }): AsyncIterableIterator<StoredEvent> {
  const wanted = (e: StoredEvent) =>
    isAlertEvent(e.type) && (!filter.severity?.length || filter.severity.includes(payloadOf(e).severity)) && (!filter.kind?.length || filter.kind.includes(payloadOf(e).kind));
  return tenantEventStream({ database: ctx.services.database, bus: ctx.services.events }, { tenantId: ctx.viewer.tenantId, afterId, wanted, signals: [ctx.shutdown, ctx.request?.signal] });
}

builder.subscriptionField('alerts', (t) =>
  t.field({
    type: AlertEventRef,
    authScopes: { read: true },
    description: 'Alerts of your tenant as they are raised and change, from every Sendguard process. Resumable with afterEventId (or the SSE Last-Event-ID header).',
    args: { filter: t.arg({ type: AlertEventFilterInput }), afterEventId: t.arg.id() },
    subscribe: async (_root, args, ctx) =>
      alertEventStream(ctx, await resumePoint(ctx.services.events, args.afterEventId == null ? undefined : String(args.afterEventId), ctx.request?.headers.get('last-event-id')), args.filter ?? {}),
    resolve: (event) => event,
  }),
);
