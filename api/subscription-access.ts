import { Kind, getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Scope } from '../domain/roles/role-catalog.ts';
import { AuthenticationError } from './auth/verify-token.ts';
import { withStoredRoles } from './auth/viewer.ts';
import type { GraphQLContext } from './context.ts';

/** The root field a subscription operation selects (exactly one, by validation), through any fragments. */
function rootFieldName(document: DocumentNode, operationName: string | null | undefined): string | undefined {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const first = (set: SelectionSetNode): string | undefined => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) return selection.name.value;
      const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
      const name = inner && first(inner);
      if (name) return name;
    }
    return undefined;
  };
  const operation = getOperationAST(document, operationName);
  return operation ? first(operation.selectionSet) : undefined;
}

/** Scopes any one of which the field's `authScopes` accepts; every subscription needs at least `read`. */
function neededScopes(schema: GraphQLSchema, field: string | undefined): { name: string; scopes: Scope[] } {
  const definition = field ? schema.getSubscriptionType()?.getFields()[field] : undefined;
  const declared = (definition?.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions?.authScopes;
  const scopes = declared && typeof declared === 'object' ? (Object.entries(declared).filter(([, on]) => on === true).map(([scope]) => scope) as Scope[]) : [];
  return { name: `Subscription.${field ?? '?'}`, scopes: scopes.length > 0 ? scopes : ['read'] };
}

type Refusal = ReturnType<typeof createGraphQLError>;

/** Why the caller may no longer receive the subscription's results, if so. */
async function refusal(ctx: GraphQLContext, needed: { name: string; scopes: Scope[] }): Promise<Refusal | undefined> {
  try {
    const now = await withStoredRoles(ctx.services.roles, ctx.viewer);
    if (needed.scopes.some((scope) => now.scopes.includes(scope))) return undefined;
    return createGraphQLError(`Forbidden: ${needed.name} needs the ${needed.scopes.join(' or ')} scope, which your roles no longer grant; subscribe again once they do`, {
      extensions: { code: 'FORBIDDEN' },
    });
  } catch (err) {
    if (err instanceof AuthenticationError) return createGraphQLError(`Unauthorized: ${err.message}`, { extensions: { code: 'UNAUTHENTICATED' } });
    ctx.services.logger.error({ err }, "a subscriber's roles could not be looked up");
    return createGraphQLError('The service is unavailable; subscribe again shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
  }
}

/**
 * The subscription's results while `allowed` finds no refusal, asked before each one is delivered;
 * then one result with the refusal, and the source is ended.
 */
export function whileAllowed(source: AsyncIterable<ExecutionResult>, allowed: () => Promise<Refusal | undefined>): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  let ended = false;
  return {
    async next() {
      if (ended) return { done: true, value: undefined };
      const result = await inner.next();
      if (result.done) {
        ended = true;
        return result;
      }
      const refused = await allowed();
      if (!refused) return result;
      ended = true;
      await inner.return?.();
      return { done: false, value: { errors: [refused] } };
    },
    async return(value?: unknown) {
      ended = true;
      await inner.return?.(value);
      return { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      ended = true;
      if (inner.throw) return inner.throw(err);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A subscription authorises its caller when it starts and lasts for hours: each result is
 * delivered only if the caller's roles, as stored now (cached for seconds, dropped on a change),
 * still grant the scope the field needs. Once they do not, the subscription ends with FORBIDDEN.
 */
export function subscriptionsEndWithAccess(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const needed = neededScopes(args.schema, rootFieldName(args.document, args.operationName));
      const ctx = args.contextValue;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(whileAllowed(result, () => refusal(ctx, needed)));
        },
      };
    },
  };
}
