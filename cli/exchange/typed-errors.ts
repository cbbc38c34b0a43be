import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.ts';

/** Any member of a mutation's error union: every one implements the `Error` interface. */
const typedError = z.object({ __typename: z.string(), message: z.string() }).loose();

const exitCodeOf: Record<string, ExitCode> = {
  NotRestrictedError: ExitCode.notFound,
  NotFoundError: ExitCode.notFound,
  UnblockQuotaExceededError: ExitCode.refused,
  SecondApprovalRequiredError: ExitCode.refused,
  RestrictionChangedError: ExitCode.refused,
  ValidationError: ExitCode.usage,
  RelayUsernameTakenError: ExitCode.usage,
};

/** A typed mutation error as the CLI reports it: its message, and the exit code its kind stands for. */
function typedErrorToCliError(error: z.infer<typeof typedError>): CliError {
  const code = exitCodeOf[error.__typename] ?? (error.__typename.endsWith('NotFoundError') ? ExitCode.notFound : ExitCode.failure);
  return new CliError(code, error.message);
}

/** The selection every mutation asks for on its result union. */
export const ERROR_SELECTION = '__typename ... on Error { message }';

/** A mutation's result: the success member parsed with `success`, or the typed error as a CliError. */
export function successOr<T>(result: unknown, success: z.ZodType<T>): T {
  const parsed = success.safeParse(result);
  if (parsed.success) return parsed.data;
  const error = typedError.safeParse(result);
  if (error.success) throw typedErrorToCliError(error.data);
  throw new CliError(ExitCode.failure, `unexpected answer from the server: ${z.prettifyError(parsed.error)}`);
}
