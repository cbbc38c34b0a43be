import type { RoleAssignment } from '../../db/repos/role-assignments.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { roleNames, scopes, type RoleName, type Scope } from '../../domain/roles/role-catalog.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { actorOf } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { rowIdOf } from '../global-id.ts';
import { boundedFirst, listSize } from '../list-size.ts';

const screaming = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');

export const RoleEnum = builder.enumType('Role', {
  description: 'A role Sendguard recognises (DESIGN §6); from token claims or assigned here.',
  values: Object.fromEntries(roleNames.map((name) => [screaming(name), { value: name, description: name }])) as Record<string, { value: RoleName }>,
});

export const ScopeEnum = builder.enumType('Scope', {
  values: Object.fromEntries(scopes.map((s) => [screaming(s.replace(/([A-Z])/g, '_$1')), { value: s }])) as Record<string, { value: Scope }>,
});

const RoleAssignmentNode = builder.loadableNode('RoleAssignment', {
  description: 'A role granted inside Sendguard, in addition to the roles a token carries.',
  id: { resolve: (a: RoleAssignment) => a.id },
  load: (ids: string[], ctx) => ctx.services.roles.byIds(ctx.viewer.tenantId, ids),
  sort: (a) => a.id,
  fields: (t) => ({
    principalId: t.exposeString('principalId', { description: 'Entra object id or user principal name (lower-case).' }),
    role: t.field({ type: RoleEnum, resolve: (a) => a.role as RoleName }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const MAX_ROLE_ASSIGNMENTS = 100;

builder.queryField('roleAssignments', (t) =>
  t.field({
    type: [RoleAssignmentNode],
    authScopes: { read: true },
    description: `By principal and role: the first \`first\` of them (at most ${MAX_ROLE_ASSIGNMENTS}), after the one whose id is \`after\` (the last of the previous page).`,
    args: { first: t.arg.int({ defaultValue: MAX_ROLE_ASSIGNMENTS }), after: t.arg.id() },
    extensions: listSize({ max: MAX_ROLE_ASSIGNMENTS, slicingArguments: ['first'] }),
    resolve: (_root, { first, after }, { services, viewer }) =>
      services.roles.list(viewer.tenantId, {
        first: boundedFirst(first, MAX_ROLE_ASSIGNMENTS),
        after: after == null ? undefined : rowIdOf(String(after), 'RoleAssignment', 'after', 'after must be the id of a role assignment'),
      }),
  }),
);

const RoleAssignmentInput = builder.inputType('RoleAssignmentInput', {
  fields: (t) => ({ principalId: t.string({ required: true }), role: t.field({ type: RoleEnum, required: true }) }),
});

builder.mutationField('assignRole', (t) =>
  t.field({
    type: RoleAssignmentNode,
    authScopes: { manageRoles: true },
    description: 'Grants a role (Global Administrator or Organization Management only). Granting a role already held changes nothing.',
    args: { input: t.arg({ type: RoleAssignmentInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'AssignRoleResult' }, result: { name: 'AssignRoleSuccess' }, dataField: { name: 'roleAssignment' } },
    resolve: async (_root, { input }, { services, viewer }) =>
      (await services.roles.assign({ tenantId: viewer.tenantId, principalId: input.principalId, role: input.role, actor: actorOf(viewer) })).assignment,
  }),
);

builder.mutationField('removeRoleAssignment', (t) =>
  t.field({
    type: RoleAssignmentNode,
    authScopes: { manageRoles: true },
    description: 'Revokes a role granted here (roles from token claims are managed in the identity provider).',
    args: { input: t.arg({ type: RoleAssignmentInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: 'RemoveRoleAssignmentResult' },
      result: { name: 'RemoveRoleAssignmentSuccess' },
      dataField: { name: 'roleAssignment' },
    },
    resolve: (_root, { input }, { services, viewer }) =>
      services.roles.remove({ tenantId: viewer.tenantId, principalId: input.principalId, role: input.role, actor: actorOf(viewer) }),
  }),
);
