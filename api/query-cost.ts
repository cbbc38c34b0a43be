import {
  Kind,
  type ArgumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ListSize } from './list-size.ts';

/** What a list that declares no size counts as; a schema test keeps every list declared. */
const UNDECLARED_LIST_SIZE = 100;

// Duck-typed rather than graphql's isListType & co.: under vitest `graphql` may load twice (ESM and CJS).
type Wrapper = { ofType?: GraphQLOutputType };
const isList = (type: GraphQLOutputType): boolean => type.toString().replace(/!$/, '').startsWith('[');
function namedType(type: GraphQLOutputType): GraphQLOutputType {
  let named = type;
  while ((named as Wrapper).ofType) named = (named as Wrapper).ofType as GraphQLOutputType;
  return named;
}
type FieldsOf = { getFields(): Record<string, GraphQLField<unknown, unknown>> };
const fieldsOf = (type: GraphQLCompositeType) => ('getFields' in type ? (type as FieldsOf).getFields() : {});

function declaredSize(field: GraphQLField<unknown, unknown>): ListSize | undefined {
  return (field.extensions as { listSize?: ListSize }).listSize;
}

/** The size an argument asks for: a literal (clamped to the bound), or the bound for a variable. */
function requestedSize(arg: ArgumentNode, size: ListSize): number | undefined {
  const value = arg.value;
  if (value.kind === Kind.NULL) return undefined;
  if (value.kind === Kind.INT) return Math.min(Math.max(Number.parseInt(value.value, 10), 0), size.max);
  if (value.kind === Kind.LIST) return Math.min(value.values.length, size.max);
  return size.max;
}

function itemsOf(node: FieldNode, field: GraphQLField<unknown, unknown>): number {
  const size = declaredSize(field);
  if (!size) return isList(field.type) ? UNDECLARED_LIST_SIZE : 1;
  const asked = (node.arguments ?? []).filter((a) => size.slicingArguments?.includes(a.name.value)).map((a) => requestedSize(a, size));
  const given = asked.filter((n): n is number => n !== undefined);
  return given.length > 0 ? Math.max(...given) : (size.assumed ?? size.max);
}

/**
 * An upper bound on the field values an operation can produce: every field counts 1, and a list
 * multiplies what is selected below it by the most items it can return. Fragments are costed once
 * each, so a document cannot make the count itself expensive.
 */
export function operationCost(schema: GraphQLSchema, selectionSet: SelectionSetNode, root: GraphQLCompositeType, fragmentOf: (name: string) => ReturnType<ValidationContext['getFragment']>): number {
  const fragmentCosts = new Map<string, number>();

  type Sized = { fields: readonly string[]; items: number } | undefined;

  /** `sized`: the child fields whose size the parent (a connection) sets, and that size. */
  function selectionsCost(set: SelectionSetNode, parent: GraphQLCompositeType, sized: Sized): number {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, parent, sized?.fields.includes(selection.name.value) ? sized.items : undefined);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        cost += selectionsCost(selection.selectionSet, (type as GraphQLCompositeType | undefined) ?? parent, sized);
      } else {
        cost += fragmentCost(selection.name.value, sized);
      }
    }
    return cost;
  }

  function fragmentCost(name: string, sized: Sized): number {
    const key = `${name} ${sized ? `${sized.fields.join()} ${sized.items}` : ''}`;
    const known = fragmentCosts.get(key);
    if (known !== undefined) return known;
    // A cycle is reported by graphql's own NoFragmentCycles rule; here it just ends.
    fragmentCosts.set(key, 0);
    const fragment = fragmentOf(name);
    const type = fragment && schema.getType(fragment.typeCondition.name.value);
    const cost = fragment && type ? selectionsCost(fragment.selectionSet, type as GraphQLCompositeType, sized) : 0;
    fragmentCosts.set(key, cost);
    return cost;
  }

  /** `items`: the size a parent connection set for this field (its edges). */
  function fieldCost(node: FieldNode, parent: GraphQLCompositeType, items?: number): number {
    const name = node.name.value;
    // Introspection is as large as the schema, no larger.
    if (name === '__schema' || name === '__type') return 0;
    const field = fieldsOf(parent)[name];
    if (!field || !node.selectionSet) return 1;
    const child = namedType(field.type) as GraphQLCompositeType;
    const size = declaredSize(field);
    if (size?.sizedFields) return 1 + selectionsCost(node.selectionSet, child, { fields: size.sizedFields, items: itemsOf(node, field) });
    return 1 + (items ?? itemsOf(node, field)) * selectionsCost(node.selectionSet, child, undefined);
  }

  return selectionsCost(selectionSet, root, undefined);
}

function queryCostRule(maxCost: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const schema = context.getSchema();
      const root = schema.getRootType(operation.operation);
      if (!root) return;
      const cost = operationCost(schema, operation.selectionSet, root, (name) => context.getFragment(name));
      if (cost > maxCost) {
        context.reportError(
          createGraphQLError('The query is too expensive: ask for fewer items (first) or fewer nested lists.', { nodes: [operation], extensions: { code: 'QUERY_TOO_EXPENSIVE' } }),
        );
      }
    },
  });
}

/**
 * Refuses an operation whose cost (`operationCost`) is over `maxCost`, before anything runs. Unlike
 * a cost that only counts `first` and `last`, every list counts with its bound, so a list nested in
 * a list (a sender's history inside its history) is refused however its arguments are written.
 */
export function queryCostLimit(maxCost: number): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(queryCostRule(maxCost));
    },
  };
}
