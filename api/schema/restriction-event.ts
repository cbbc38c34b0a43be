import type { StoredEvent } from '../../domain/events/event-types.ts';
import { restrictionEventTypes, type RestrictionEventPayload } from '../../domain/events/event-types.ts';
import { validSenderKey } from '../../domain/policies/policy-validation.ts';
import type { GraphQLContext } from '../context.ts';
import { restrictionEventStream, resumePoint, type RestrictionEventFilter } from '../event-stream.ts';
import { builder } from '../builder.ts';
import { RestrictedConnector } from './restricted-connector.ts';
import { RestrictedUser } from './restricted-user.ts';

const payloadOf = (e: StoredEvent) => e.payload as unknown as RestrictionEventPayload;

// Read fresh for every event: a subscription's context (and any loader cache on it) lives for hours.
async function restrictionOf(e: StoredEvent, ctx: GraphQLContext) {
  const [found] = await ctx.services.restrictionLoaders.byIds(ctx.viewer.tenantId, e.entityKind === 'connector' ? 'connector' : 'user', [payloadOf(e).restrictionId]);
  return found ?? null;
}

function eventType(name: (typeof restrictionEventTypes)[number], description: string, entity: 'user' | 'connector' | 'either') {
  return builder.objectRef<StoredEvent>(name).implement({
    description,
    isTypeOf: (e) => (e as StoredEvent).type === name,
    fields: (t) => ({
      eventId: t.id({ description: 'Resume after it with afterEventId or the SSE Last-Event-ID header.', resolve: (e) => String(e.id) }),
      occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
      actorName: t.string({ description: 'Who did it: an admin, or Sendguard (policy server, scheduler).', resolve: (e) => payloadOf(e).actorName }),
      reason: t.string({ nullable: true, description: 'The release reason or restriction details, if any.', resolve: (e) => payloadOf(e).reason ?? null }),
      ...(entity !== 'connector'
        ? {
            senderAddress: t.string({ nullable: true, resolve: (e) => (e.entityKind === 'user' ? e.entityKey : null) }),
            restrictedUser: t.field({ type: RestrictedUser, nullable: true, description: 'The restriction as it is now.', resolve: (e, _a, ctx) => (e.entityKind === 'user' ? restrictionOf(e, ctx) : null) }),
          }
        : {}),
      ...(entity !== 'user'
        ? {
            connectorId: t.string({ nullable: true, resolve: (e) => (e.entityKind === 'connector' ? e.entityKey : null) }),
            restrictedConnector: t.field({ type: RestrictedConnector, nullable: true, resolve: (e, _a, ctx) => (e.entityKind === 'connector' ? restrictionOf(e, ctx) : null) }),
          }
        : {}),
    }),
  });
}

const RestrictionEventUnion = builder.unionType('RestrictionEvent', {
  description: 'Something happened to a restriction in your tenant.',
  types: [
    eventType('UserRestricted', "A sender was restricted, or an admin's block made its restriction last longer (restrictUser's extended).", 'user'),
    eventType('UserReleased', 'A sender was released by an admin.', 'user'),
    eventType('RestrictionExpired', 'A temporary restriction of a sender or connector ended by itself.', 'either'),
    eventType('ConnectorRestricted', 'A connector was restricted.', 'connector'),
    eventType('ConnectorReleased', 'A connector was released by an admin.', 'connector'),
  ],
  resolveType: (e) => e.type,
});

const RestrictionEventTypeEnum = builder.enumType('RestrictionEventType', {
  values: Object.fromEntries(restrictionEventTypes.map((type) => [type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(), { value: type }])) as Record<string, { value: (typeof restrictionEventTypes)[number] }>,
});

const RestrictionEventFilterInput = builder.inputType('RestrictionEventFilter', {
  fields: (t) => ({
    types: t.field({ type: [RestrictionEventTypeEnum], description: 'Only these kinds (default: all).' }),
    senderAddress: t.string({ description: "Only this sender's events (any spelling of its address). One that is no address or user name is BAD_USER_INPUT; empty follows every sender." }),
    connectorId: t.string({ description: "Only this connector's events. One with white space or control characters is BAD_USER_INPUT; empty follows every connector." }),
  }),
});

/** A sender or connector to follow must be one (an empty one follows every one, as no filter does). */
function validEventFilter(filter: RestrictionEventFilter): RestrictionEventFilter {
  if (filter.senderAddress?.trim()) validSenderKey('senderAddress', filter.senderAddress);
  if (filter.connectorId?.trim()) validSenderKey('connectorId', filter.connectorId);
  return filter;
}

builder.subscriptionField('restrictionEvents', (t) =>
  t.field({
    type: RestrictionEventUnion,
    authScopes: { read: true },
    description:
      'Live restriction events of your tenant, from every Sendguard process. Resumable: pass the last eventId you saw as afterEventId (or, over SSE, as the Last-Event-ID header) to receive everything after it, in order, once.',
    args: { filter: t.arg({ type: RestrictionEventFilterInput }), afterEventId: t.arg.id() },
    subscribe: async (_root, args, ctx) =>
      restrictionEventStream(
        { database: ctx.services.database, bus: ctx.services.events },
        {
          tenantId: ctx.viewer.tenantId,
          afterId: await resumePoint(ctx.services.events, args.afterEventId === null || args.afterEventId === undefined ? undefined : String(args.afterEventId), ctx.request?.headers.get('last-event-id')),
          filter: validEventFilter(args.filter ?? {}),
          signals: [ctx.shutdown, ctx.request?.signal],
        },
      ),
    resolve: (event) => event,
  }),
);
