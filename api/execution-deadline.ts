import type { ExecutionArgs, ExecutionResult, OperationDefinitionNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { settleWithin } from '../domain/deadline.ts';

function isMutation(args: ExecutionArgs): boolean {
  const operations = args.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const chosen = args.operationName ? operations.find((o) => o.name?.value === args.operationName) : operations[0];
  return chosen?.operation === 'mutation';
}

function late(ms: number, mutation: boolean): ExecutionResult {
  // The resolver goes on after the answer: a change it was making may still be made.
  const then = mutation ? 'the change may still be made: check before trying again' : 'try again shortly';
  return { errors: [createGraphQLError(`The request did not complete within ${ms} ms; ${then}.`, { extensions: { code: 'TIMEOUT', http: { status: 503 } } })] };
}

/**
 * Answers a query or mutation that runs longer than `ms` (`SENDGUARD_GRAPHQL_TIMEOUT_MS`) with a
 * `TIMEOUT` error and HTTP 503, instead of holding the caller for as long as a database that
 * stopped answering takes. Listed last, so it wraps the executor the other plugins chose.
 */
export function executionDeadline(ms: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args: ExecutionArgs) => {
        const result = Promise.resolve(executeFn(args) as ExecutionResult | Promise<ExecutionResult>);
        return settleWithin(result, ms, () => late(ms, isMutation(args)));
      });
    },
  };
}
