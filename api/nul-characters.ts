import { Kind, visit, type ASTNode, type DocumentNode, type ValueNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const NUL = '\u0000';

/** Where in a variable's JSON value a string holds a NUL (`input.reason`, `from[2]`), if anywhere. */
function nulInValue(value: unknown, at: string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? at : undefined;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${at}[${i}]`, v])
    : value !== null && typeof value === 'object'
      ? Object.entries(value).map(([k, v]) => [`${at}.${k}`, v])
      : [];
  for (const [path, v] of entries) {
    const found = nulInValue(v, path);
    if (found) return found;
  }
  return undefined;
}

/** As nulInValue, for a value written in the document. */
function nulInLiteral(node: ValueNode, at: string): string | undefined {
  if (node.kind === Kind.STRING) return node.value.includes(NUL) ? at : undefined;
  const entries: [string, ValueNode][] =
    node.kind === Kind.LIST ? node.values.map((v, i) => [`${at}[${i}]`, v]) : node.kind === Kind.OBJECT ? node.fields.map((f) => [`${at}.${f.name.value}`, f.value]) : [];
  for (const [path, v] of entries) {
    const found = nulInLiteral(v, path);
    if (found) return found;
  }
  return undefined;
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
  const check = (args: { document: DocumentNode; variableValues?: unknown }) => nulInVariables(args.variableValues) ?? nulInDocument(args.document);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
