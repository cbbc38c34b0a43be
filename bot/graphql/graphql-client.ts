import { z } from 'zod';
import type { BotTokens, Caller } from './bot-tokens.ts';

/** A GraphQL operation with the shape of its `data`, checked when the answer arrives. */
export interface TypedDocument<TData, TVariables> {
  operationName: string;
  query: string;
  data: z.ZodType<TData>;
  /** Never set: carries the variables' type. */
  readonly variables?: TVariables;
}

export function typedDocument<TData, TVariables = Record<string, never>>(operationName: string, query: string, data: z.ZodType<TData>): TypedDocument<TData, TVariables> {
  return { operationName, query, data };
}

/** `yoga.fetch` in-process, global `fetch` against `SENDGUARD_API_URL` when the bot runs apart. */
export type GraphQLFetch = (request: Request) => Promise<Response>;

/** The API refused the caller (top-level `FORBIDDEN`): nothing was read or changed. */
export class GraphQLForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
}

/**
 * The API refused a value the bot passed on from a card (`BAD_USER_INPUT`, e.g. a list cursor it
 * never issued): the card's data was bad, nothing was read or changed. The message is the API's.
 */
export class GraphQLInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
}

/** Anything else that went wrong between the bot and the API. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The first error's `extensions.code`, e.g. `TIMEOUT`. */
    readonly code?: string,
    /** Whether the operation was a mutation: one that timed out may still have changed something. */
    readonly mutation = false,
  ) {
    super(message);
  }
}

const errorSchema = z.object({ message: z.string(), extensions: z.object({ code: z.string().optional() }).passthrough().optional() });
const responseSchema = z.object({ data: z.unknown().optional(), errors: z.array(errorSchema).optional() });

async function readBody(response: Response): Promise<z.infer<typeof responseSchema>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GraphQLRequestError(`the API answered ${response.status} without JSON`, response.status);
  }
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success) throw new GraphQLRequestError(`the API answered ${response.status} with an unexpected body`, response.status);
  return parsed.data;
}

/** Runs typed documents against the GraphQL API as a caller (an admin, or the bot itself). */
export function createGraphQLClient(deps: { fetch: GraphQLFetch; url: string; tokens: BotTokens }) {
  return {
    async execute<TData, TVariables>(document: TypedDocument<TData, TVariables>, variables: TVariables, caller: Caller): Promise<TData> {
      const token = await deps.tokens.forCaller(caller);
      const request = new Request(deps.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, 'x-graphql-csrf': '1' },
        body: JSON.stringify({ operationName: document.operationName, query: document.query, variables }),
      });
      const response = await deps.fetch(request);
      const body = await readBody(response);
      const errors = body.errors ?? [];
      if (errors.some((e) => e.extensions?.code === 'FORBIDDEN')) throw new GraphQLForbiddenError(errors[0]?.message ?? 'forbidden');
      const badInput = errors.find((e) => e.extensions?.code === 'BAD_USER_INPUT');
      if (badInput) throw new GraphQLInputError(badInput.message);
      if (errors.length > 0 || !response.ok) {
        const message = `${document.operationName}: ${errors.map((e) => e.message).join('; ') || `HTTP ${response.status}`}`;
        throw new GraphQLRequestError(message, response.status, errors[0]?.extensions?.code, /^\s*mutation\b/.test(document.query));
      }
      const data = document.data.safeParse(body.data);
      if (!data.success) throw new GraphQLRequestError(`${document.operationName}: unexpected data at ${data.error.issues[0]?.path.join('.') ?? '?'}`, response.status);
      return data.data;
    },
  };
}

export type GraphQLClient = ReturnType<typeof createGraphQLClient>;
