import {
  getVariableValues,
  GraphQLError,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Queries run compiled (graphql-jit) rather than on graphql-js: the same resolvers, called from
 * code generated once per document (yoga's parser cache hands back the same document for the same
 * text), and a console's list page of 50 costs about 40 % less CPU (README: Performance).
 *
 * The rest stays on graphql-js: mutations and subscriptions (rare, or long-lived), a document
 * with several operations, and a query whose variables do not coerce, so its answer stays
 * graphql-js's 400. A query that does not compile runs on graphql-js too.
 */
export function compiledQueries(onCompileError: (errors: readonly GraphQLError[]) => void): Plugin {
  // null: the document did not compile; it is not tried again.
  const compiled = new WeakMap<DocumentNode, CompiledQuery | null>();

  function compiledFor(args: ExecutionArgs): CompiledQuery | null {
    let query = compiled.get(args.document);
    if (query === undefined) {
      const result = compileQuery(args.schema, args.document, undefined, {});
      query = isCompiledQuery(result) ? result : null;
      if (!isCompiledQuery(result)) onCompileError(result.errors ?? []);
      compiled.set(args.document, query);
    }
    return query;
  }

  return {
    onExecute({ args, setExecuteFn }) {
      const operation = onlyQuery(args.document);
      if (!operation) return;
      const variables = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
      if (variables.errors) return;
      const query = compiledFor(args);
      if (!query) return;
      setExecuteFn(async (a) => withFieldNodes(await query.query(a.rootValue, a.contextValue, a.variableValues), a.document, operation));
    },
  };
}

function onlyQuery(document: DocumentNode): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operations.length === 1 && operations[0]?.operation === 'query' ? operations[0] : undefined;
}

/**
 * A compiled query's errors carry their locations but not the field nodes, from which yoga
 * derives the locations again when it masks or serialises an error: they get their nodes back.
 */
function withFieldNodes(result: ExecutionResult, document: DocumentNode, operation: OperationDefinitionNode): ExecutionResult {
  if (!result.errors?.length) return result;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const errors = result.errors.map((error) => {
    if (error.nodes?.length || !error.path) return error;
    const nodes = fieldNodesAt(operation, fragments, error.path);
    return nodes.length === 0 ? error : createGraphQLError(error.message, { nodes, path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  });
  return { ...result, errors };
}

/** The field nodes a response path leads to (list indexes skipped). */
function fieldNodesAt(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, path: readonly (string | number)[]): FieldNode[] {
  let selections: readonly SelectionNode[] = operation.selectionSet.selections;
  let nodes: FieldNode[] = [];
  for (const key of path) {
    if (typeof key === 'number') continue;
    nodes = fieldsNamed(selections, key, fragments);
    selections = nodes.flatMap((n) => n.selectionSet?.selections ?? []);
  }
  return nodes;
}

function fieldsNamed(selections: readonly SelectionNode[], responseKey: string, fragments: ReadonlyMap<string, FragmentDefinitionNode>, out: FieldNode[] = []): FieldNode[] {
  for (const s of selections) {
    if (s.kind === Kind.FIELD) {
      if ((s.alias?.value ?? s.name.value) === responseKey) out.push(s);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      fieldsNamed(s.selectionSet.selections, responseKey, fragments, out);
    } else {
      const fragment = fragments.get(s.name.value);
      if (fragment) fieldsNamed(fragment.selectionSet.selections, responseKey, fragments, out);
    }
  }
  return out;
}
