/** The admin verbs' exit codes; scripts rely on them, so they are part of the CLI's contract. */
export const ExitCode = {
  success: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  notAllowed: 4,
  refused: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodesHelp = `Exit codes:
  0  success (an empty list too)
  1  failure (server unreachable or not Sendguard's GraphQL endpoint, unexpected error,
     confirmation declined)
  2  usage: a bad option or value, or a destructive verb without --yes when not on a terminal
  3  not found (the sender, connector, policy or rule is not there, or not restricted)
  4  not authenticated (no, expired or forged token) or not allowed (your roles lack the scope)
  5  refused by a rule (unblock quota reached, second admin's approval required, or the
     restriction changed between confirmation and release)`;

/** An expected failure of a CLI verb: printed to stderr, and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}
