import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { createGraphQLError } from 'graphql-yoga';
import { ValidationError } from '../domain/restrictions/errors.ts';
import { scopeRefusal } from '../domain/roles/role-catalog.ts';
import type { GraphQLContext } from './context.ts';
import { decodeNodeArgument, nodeId } from './global-id.ts';
import { listSize } from './list-size.ts';

/** The most ids one `nodes` query takes. */
const MAX_NODES = 100;

function missingScopes(failure: AuthFailure): string[] {
  if (failure.kind === AuthScopeFailureType.AuthScope) return [failure.scope];
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) return failure.failures.flatMap(missingScopes);
  return [];
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { authenticated: boolean; read: boolean; manage: boolean; manageRoles: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  Connection: { totalCount: number };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  // scope-auth first, so no other plugin's wrapper runs before authorisation.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: ({ viewer }) => ({
      authenticated: true,
      read: viewer.scopes.includes('read'),
      manage: viewer.scopes.includes('manage'),
      manageRoles: viewer.scopes.includes('manageRoles'),
    }),
    unauthorizedError: (_parent, _context, info, result) => {
      const needed = [...new Set(missingScopes(result.failure))].join(' or ') || 'a role';
      return createGraphQLError(scopeRefusal(`${info.parentType.name}.${info.fieldName}`, needed), {
        extensions: { code: 'FORBIDDEN' },
      });
    },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // A malformed id, or one of a type that is not a Node, is BAD_USER_INPUT (not an uncoded error),
    // naming the argument: node's id or nodes' ids.
    decodeGlobalID: (globalId) => decodeNodeArgument(globalId),
    nodeQueryOptions: { authScopes: { read: true }, resolve: (_root, { id }, _ctx, info, resolveNode) => resolveNode(nodeId(info.schema, id, 'id')) },
    nodesQueryOptions: {
      authScopes: { read: true },
      description: `At most ${MAX_NODES} ids.`,
      extensions: listSize({ max: MAX_NODES, slicingArguments: ['ids'] }),
      resolve: (_root, { ids }, _ctx, info, resolveNodes) => {
        if (ids.length > MAX_NODES) throw new ValidationError('ids', `at most ${MAX_NODES} ids`);
        return resolveNodes(ids.map((id) => nodeId(info.schema, id, 'ids')));
      },
    },
  },
  errors: { defaultTypes: [] },
});
