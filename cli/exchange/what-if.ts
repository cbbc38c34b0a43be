import { z } from 'zod';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { scopeRefusal } from '../../domain/roles/role-catalog.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';

type Refusal = ValidationError | NotFoundError;

const SCOPES = 'query WhatIfScopes { viewer { scopes } }';

/**
 * `--what-if` refuses what the real call would refuse, in the server's order: first the caller's
 * roles (every verb's mutation needs the manage scope: exit 4), then the input, through the
 * server's own validation (a ValidationError it throws: exit 2; a NotFoundError, for what the
 * verb listed and did not find: exit 3), each with the server's message.
 */
export async function checkWhatIf(api: GraphQLClient, mutation: string, validate: () => Refusal | undefined | void = () => undefined): Promise<void> {
  const { viewer } = await api.request(SCOPES, {}, z.object({ viewer: z.object({ scopes: z.array(z.string()) }) }));
  if (!viewer.scopes.includes('MANAGE')) throw new CliError(ExitCode.notAllowed, scopeRefusal(`Mutation.${mutation}`, 'manage'));
  // The domain's validators return their error or throw it.
  let invalid: Refusal | undefined | void;
  try {
    invalid = validate();
  } catch (err) {
    if (!(err instanceof ValidationError) && !(err instanceof NotFoundError)) throw err;
    invalid = err;
  }
  if (invalid) throw new CliError(invalid instanceof NotFoundError ? ExitCode.notFound : ExitCode.usage, invalid.message);
}
