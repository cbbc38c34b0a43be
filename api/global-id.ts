import { decodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { ValidationError } from '../domain/restrictions/errors.ts';

export interface GlobalId {
  typename: string;
  id: string;
}

/** The type and row id inside a global id; one that does not decode is the caller's mistake, not a fault. */
export function parseGlobalId(globalId: string, field: string): GlobalId {
  try {
    return decodeGlobalID(globalId);
  } catch {
    throw new ValidationError(field, `${field} is not an id this API issued`);
  }
}

/** The row id inside a global id of `typename`; `message` says what else it was given. */
export function rowIdOf(globalId: string, typename: string, field: string, message: string): string {
  let decoded: GlobalId | undefined;
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    // Not a global id at all: the same answer as an id of another type.
  }
  if (decoded?.typename !== typename) throw new ValidationError(field, message);
  return decoded.id;
}

/** `node` and `nodes` load only types that implement Node; any other type name is refused, not looked up. */
export function nodeId(schema: GraphQLSchema, globalId: GlobalId, field: string): GlobalId {
  // Duck-typed rather than isObjectType: under vitest `graphql` may load twice (ESM and CJS).
  const type = schema.getType(globalId.typename) as Partial<GraphQLObjectType> | undefined;
  if (type?.getInterfaces?.().some((i) => i.name === 'Node')) return globalId;
  throw new ValidationError(field, `${field} is not an id this API issued`);
}
