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

/** The type and row id inside a global id; one that does not decode is the caller's mistake, not a fault. */
export function parseGlobalId(globalId: string, field: string): GlobalId {
  const id = decoded(globalId);
  if (!id) throw new ValidationError(field, `${field} is not an id this API issued`);
  return id;
}

/** The row id inside a global id of `typename`; `message` says what else it was given (not a global id at all gets the same answer). */
export function rowIdOf(globalId: string, typename: string, field: string, message: string): string {
  const id = decoded(globalId);
  if (id?.typename !== typename) throw new ValidationError(field, message);
  return id.id;
}

/** `node` and `nodes` load only types that implement Node; any other type name is refused, not looked up. */
export function nodeId(schema: GraphQLSchema, globalId: GlobalId, field: string): GlobalId {
  // Duck-typed rather than isObjectType: under vitest `graphql` may load twice (ESM and CJS).
  const type = schema.getType(globalId.typename) as Partial<GraphQLObjectType> | undefined;
  if (type?.getInterfaces?.().some((i) => i.name === 'Node')) return globalId;
  throw new ValidationError(field, `${field} is not an id this API issued`);
}
