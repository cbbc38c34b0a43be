import { decodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { ValidationError } from '../domain/restrictions/errors.ts';

export interface GlobalId {
  typename: string;
  id: string;
}

/** The type and row id inside a global id; undefined when it is not one. */
function decoded(globalId: string): GlobalId | undefined {
  try {
    return decodeGlobalID(globalId);
  } catch {
    return undefined;
  }
}

/** The row id inside a global id of `typename`; `message` says what else it was given (not a global id at all gets the same answer). */
export function rowIdOf(globalId: string, typename: string, field: string, message: string): string {
  const id = decoded(globalId);
  if (id?.typename !== typename) throw new ValidationError(field, message);
  return id.id;
}

/**
 * What `node` and `nodes` are given, as the relay plugin decodes their arguments (it cannot say
 * which argument it decodes): one that does not decode has no type name, so that `nodeId` refuses
 * it naming the argument it came in.
 */
export function decodeNodeArgument(globalId: string): GlobalId {
  return decoded(globalId) ?? { typename: '', id: globalId };
}

/** `node` and `nodes` load only types that implement Node; any other type name (or none) is refused, not looked up. */
export function nodeId(schema: GraphQLSchema, globalId: GlobalId, field: 'id' | 'ids'): GlobalId {
  // Duck-typed rather than isObjectType: under vitest `graphql` may load twice (ESM and CJS).
  const type = globalId.typename ? (schema.getType(globalId.typename) as Partial<GraphQLObjectType> | undefined) : undefined;
  if (type?.getInterfaces?.().some((i) => i.name === 'Node')) return globalId;
  throw new ValidationError(field, field === 'ids' ? 'ids has an id this API did not issue' : 'id is not an id this API issued');
}
