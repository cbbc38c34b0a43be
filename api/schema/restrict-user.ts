import { ValidationError } from '../../domain/restrictions/errors.ts';
import type { RestrictResult } from '../../domain/restrictions/restriction-service.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { RestrictedUser } from './restricted-user.ts';

const ManualReasonEnum = builder.enumType('ManualRestrictionReason', {
  values: {
    MANUAL_BLOCK: { value: 'ManualBlock' },
    SUSPECTED_COMPROMISE: { value: 'SuspectedCompromise', description: 'The account looks compromised (e.g. found by another tool).' },
  } as const,
});

const RestrictUserInput = builder.inputType('RestrictUserInput', {
  fields: (t) => ({
    senderAddress: t.string({ required: true, description: "An address in one of the tenant's accepted domains." }),
    reason: t.field({ type: ManualReasonEnum, required: true }),
    details: t.string({ description: 'What the admin found (kept with the restriction and in the audit log).' }),
    expiresAt: t.field({ type: 'DateTime', description: 'A temporary block ends by itself then; without it, until released.' }),
  }),
});

const RestrictUserPayload = builder.objectRef<RestrictResult>('RestrictUserSuccess');

RestrictUserPayload.implement({
  fields: (t) => ({
    restrictedUser: t.field({ type: RestrictedUser, resolve: (p) => p.restriction }),
    created: t.exposeBoolean('created', { description: 'False when the sender was already restricted: that restriction is returned (see extended).' }),
    extended: t.exposeBoolean('extended', {
      description:
        "True when the sender's active restriction would have ended sooner (e.g. BlockUserForToday at 00:00 UTC) and now lasts until released or until expiresAt, audited and published as UserRestricted. False with created false: it already lasted as long, and nothing was written.",
    }),
  }),
});

builder.mutationField('restrictUser', (t) =>
  t.field({
    type: RestrictUserPayload,
    authScopes: { manage: true },
    description:
      "Restricts one of the tenant's senders by hand: its mail is refused until released (or until expiresAt). A sender restricted for less time has its restriction extended to the block's end.",
    args: { input: t.arg({ type: RestrictUserInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'RestrictUserResult' }, directResult: true },
    resolve: (_root, { input }, { services, viewer }) =>
      services.restrictUser({
        tenantId: viewer.tenantId,
        senderAddress: input.senderAddress,
        reasonCode: input.reason,
        details: input.details ?? undefined,
        expiresAt: input.expiresAt ?? undefined,
        actor: actorOf(viewer),
      }),
  }),
);
