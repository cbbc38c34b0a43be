import { Kind, visit, type ASTNode, type DocumentNode, type GraphQLError, type ValueNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const NUL = '\u0000';

/** The first of the parts (path, value) in which `search` finds a NUL. */
function firstIn<T>(parts: [string, T][], search: (value: T, at: string) => string | undefined): string | undefined {
  for (const [path, part] of parts) {
    const found = search(part, path);
    if (found) return found;
  }
  return undefined;
}

/** Where in a variable's JSON value a string holds a NUL (`input.reason`, `from[2]`), if anywhere. */
function nulInValue(value: unknown, at: string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? at : undefined;
  if (Array.isArray(value)) return firstIn(value.map((v, i) => [`${at}[${i}]`, v]), nulInValue);
  return value !== null && typeof value === 'object' ? firstIn(Object.entries(value).map(([k, v]) => [`${at}.${k}`, v]), nulInValue) : undefined;
}

/** As nulInValue, for a value written in the document. */
function nulInLiteral(node: ValueNode, at: string): string | undefined {
  if (node.kind === Kind.STRING) return node.value.includes(NUL) ? at : undefined;
  if (node.kind === Kind.LIST) return firstIn(node.values.map((v, i) => [`${at}[${i}]`, v]), nulInLiteral);
  return node.kind === Kind.OBJECT ? firstIn(node.fields.map((f) => [`${at}.${f.name.value}`, f.value]), nulInLiteral) : undefined;
}

function refusal(what: string, at: string, node: ASTNode | undefined, extensions: Record<string, string>) {
  const message = `${what} holds a NUL character (U+0000) at ${at}; text may not contain it`;
  return createGraphQLError(message, { nodes: node ? [node] : undefined, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 }, ...extensions } });
}

function nulInDocument(document: DocumentNode) {
  let found: ReturnType<typeof refusal> | undefined;
  visit(document, {
    Argument(node) {
      const at = found ? undefined : nulInLiteral(node.value, node.name.value);
      if (at) found = refusal(`Argument "${node.name.value}"`, at, node, { argument: node.name.value });
    },
    VariableDefinition(node) {
      const name = node.variable.name.value;
      const at = found || !node.defaultValue ? undefined : nulInLiteral(node.defaultValue, `$${name}`);
      if (at) found = refusal(`The default of variable "$${name}"`, at, node, { variable: name });
    },
  });
  return found;
}

function nulInVariables(variables: unknown) {
  if (variables === null || typeof variables !== 'object') return undefined;
  for (const [name, value] of Object.entries(variables)) {
    const at = nulInValue(value, `$${name}`);
    if (at) return refusal(`Variable "$${name}"`, at, undefined, { variable: name });
  }
  return undefined;
}

/**
 * Refuses, before anything runs, an operation whose inputs hold a NUL character anywhere (in its
 * variables or written in the document): PostgreSQL cannot store one in text, so it would
 * otherwise fail deep in a resolver as an unexpected error. Other control characters (a newline
 * in a reason) are the fields' own business.
 */
export function refuseNulCharacters(): Plugin {
  const refuse = ({ args, setResultAndStopExecution }: { args: { document: DocumentNode; variableValues?: unknown }; setResultAndStopExecution(result: { errors: GraphQLError[] }): void }) => {
    const error = nulInVariables(args.variableValues) ?? nulInDocument(args.document);
    if (error) setResultAndStopExecution({ errors: [error] });
  };
  return { onExecute: refuse, onSubscribe: refuse };
}
