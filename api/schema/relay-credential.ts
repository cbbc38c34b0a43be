import type { RelayCredentialSummary } from '../../db/repos/relay-credentials.ts';
import { RelayUsernameTakenError } from '../../domain/relay/errors.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { listSize } from '../list-size.ts';
import { ErrorInterface } from './errors.ts';

builder.objectType(RelayUsernameTakenError, {
  name: 'RelayUsernameTakenError',
  description: 'A relay credential with this user name exists already (user names are unique across organisations). Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ username: t.exposeString('username') }),
});

const RelayCredentialNode = builder.loadableNode('RelayCredential', {
  description: 'A user name that may authenticate (SMTP AUTH) to the built-in relay; its password is stored as a scrypt hash and never shown.',
  id: { resolve: (c: RelayCredentialSummary) => c.id },
  load: (ids: string[], ctx) => ctx.services.relayCredentials.byIds(ctx.viewer.tenantId, ids),
  sort: (c) => c.id,
  fields: (t) => ({
    username: t.exposeString('username', { description: 'The SMTP AUTH user name (lower-case); mail it sends is counted and restricted under this name.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('relayCredentials', (t) =>
  t.field({
    type: [RelayCredentialNode],
    authScopes: { read: true },
    extensions: listSize({ max: 100 }),
    description: "Your organisation's relay credentials, by user name.",
    resolve: (_root, _args, { services, viewer }) => services.relayCredentials.list(viewer.tenantId),
  }),
);

const passwordDescription = 'At least 12 characters. Stored only as a scrypt hash; never returned, logged or audited.';

const CreateRelayCredentialInput = builder.inputType('CreateRelayCredentialInput', {
  fields: (t) => ({
    username: t.string({ required: true, description: '1 to 256 characters without spaces, colons or control characters; stored lower-case.' }),
    password: t.string({ required: true, description: passwordDescription }),
    dryRun: t.boolean({
      defaultValue: false,
      description:
        "Check everything the call checks, what only the database knows included (a user name taken, an address of another organisation's domain), and write nothing: the answer is the one the call would give (the credential it returns does not exist).",
    }),
  }),
});

const ResetRelayCredentialPasswordInput = builder.inputType('ResetRelayCredentialPasswordInput', {
  fields: (t) => ({ username: t.string({ required: true }), password: t.string({ required: true, description: passwordDescription }) }),
});

const DeleteRelayCredentialInput = builder.inputType('DeleteRelayCredentialInput', {
  fields: (t) => ({ username: t.string({ required: true }) }),
});

const dataField = { name: 'relayCredential' };

builder.mutationField('createRelayCredential', (t) =>
  t.field({
    type: RelayCredentialNode,
    authScopes: { manage: true },
    description: 'Creates a credential for SMTP AUTH at the built-in relay. Audited without the password.',
    args: { input: t.arg({ type: CreateRelayCredentialInput, required: true }) },
    errors: { types: [ValidationError, RelayUsernameTakenError], union: { name: 'CreateRelayCredentialResult' }, result: { name: 'CreateRelayCredentialSuccess' }, dataField },
    resolve: (_root, { input }, { services, viewer }) =>
      services.relayCredentials.create({ tenantId: viewer.tenantId, actor: actorOf(viewer), username: input.username, password: input.password, dryRun: input.dryRun ?? false }),
  }),
);

builder.mutationField('resetRelayCredentialPassword', (t) =>
  t.field({
    type: RelayCredentialNode,
    authScopes: { manage: true },
    description: 'Replaces the password: the old one stops working for the next SMTP AUTH. Audited without the password.',
    args: { input: t.arg({ type: ResetRelayCredentialPasswordInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: 'ResetRelayCredentialPasswordResult' },
      result: { name: 'ResetRelayCredentialPasswordSuccess' },
      dataField,
    },
    resolve: (_root, { input }, { services, viewer }) =>
      services.relayCredentials.resetPassword({ tenantId: viewer.tenantId, actor: actorOf(viewer), username: input.username, password: input.password }),
  }),
);

builder.mutationField('deleteRelayCredential', (t) =>
  t.field({
    type: RelayCredentialNode,
    authScopes: { manage: true },
    description: 'Deletes a credential: it no longer authenticates at the relay. Returns it as it was.',
    args: { input: t.arg({ type: DeleteRelayCredentialInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'DeleteRelayCredentialResult' }, result: { name: 'DeleteRelayCredentialSuccess' }, dataField },
    resolve: (_root, { input }, { services, viewer }) =>
      services.relayCredentials.remove({ tenantId: viewer.tenantId, actor: actorOf(viewer), username: input.username }),
  }),
);
