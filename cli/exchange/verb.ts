import { Command, Option } from 'commander';
import { ConfigError } from '../../config/config.ts';
import { loadClientConfig, parseApiUrl, parseTimeout, type ClientConfig } from '../../config/client-config.ts';
import { confirmChange } from './confirm.ts';
import { CliError, ExitCode, exitCodesHelp } from './exit-codes.ts';
import { createGraphQLClient, type GraphQLClient } from './graphql-client.ts';
import { chooseFormat, createOutput, outputFormats, type Output, type OutputFormat } from './output.ts';

export interface VerbSpec {
  /** kebab-case verb, e.g. `get-blocked-sender-address`. */
  name: string;
  /** The Exchange Online cmdlet it stands for, accepted as a spelling of the verb. */
  cmdlet: string;
  /** Other cmdlet spellings (Security & Compliance names). */
  otherCmdlets?: readonly string[];
  description: string;
  /** `changes`: `--what-if`; `destructive`: also asks for confirmation unless `--yes`. */
  effect?: 'read' | 'changes' | 'destructive';
}

export interface VerbContext {
  api: GraphQLClient;
  out: Output;
  whatIf: boolean;
  /** Asks on the terminal (or refuses without one) unless `--yes`. */
  confirm(description: string): Promise<void>;
}

interface CommonOptions {
  url?: string;
  token?: string;
  timeout?: string;
  output?: OutputFormat;
  whatIf?: boolean;
  yes?: boolean;
}

/** The verbs that talk to the API, so PowerShell spellings are rewritten for them only. */
const apiVerbs = new WeakSet<Command>();

export function isApiVerb(command: Command): boolean {
  return apiVerbs.has(command);
}

/** Adds a verb: `options` declares its own options, then come the ones every API verb shares. */
export function defineVerb(program: Command, spec: VerbSpec, options: (command: Command) => void = () => {}): Command {
  const command = program
    .command(spec.name)
    .aliases([spec.cmdlet, ...(spec.otherCmdlets ?? [])])
    .description(spec.description);
  options(command);
  if (spec.effect === 'changes' || spec.effect === 'destructive') command.option('--what-if', 'show what would change, change nothing (-WhatIf)');
  if (spec.effect === 'destructive') command.option('-y, --yes', "do not ask for confirmation (-Confirm:'$false'); needed when not on a terminal");
  command
    .addOption(new Option('-o, --output <format>', 'table or json (default: table on a terminal, json when piped)').choices(outputFormats))
    .option('--url <url>', 'GraphQL endpoint (default: SENDGUARD_URL, else http://127.0.0.1:4000/graphql)')
    .option('--token <jwt>', 'bearer token (default: SENDGUARD_TOKEN)')
    .option('--timeout <seconds>', 'how long to wait for the API, all requests together (default: SENDGUARD_TIMEOUT, else 30)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${exitCodesHelp}`);
  refuseRepeatedOptions(command);
  apiVerbs.add(command);
  return command;
}

/**
 * An option given twice with different values is a usage error: commander keeps the last, so
 * `-SenderAddress a -SenderAddress b` would release b alone and say nothing of a.
 */
function refuseRepeatedOptions(command: Command): void {
  for (const option of command.options) {
    let seen: { value: unknown } | undefined;
    command.on(`option:${option.name()}`, (value: unknown) => {
      if (seen && seen.value !== value) {
        command.error(`error: option '${option.flags}' is given twice: ${JSON.stringify(seen.value)} and ${JSON.stringify(value)}; give it once`, { exitCode: ExitCode.usage, code: 'sendguard.repeatedOption' });
      }
      seen = { value };
    });
  }
}

function clientConfig(options: CommonOptions): ClientConfig {
  try {
    const config = loadClientConfig();
    return {
      url: options.url ? parseApiUrl(options.url, '--url') : config.url,
      token: options.token?.trim() || config.token,
      timeoutSeconds: options.timeout === undefined ? config.timeoutSeconds : parseTimeout(options.timeout, '--timeout'),
    };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(ExitCode.usage, err.message);
    throw err;
  }
}

function contextFor(options: CommonOptions): VerbContext {
  const client = clientConfig(options);
  const out = createOutput({ format: chooseFormat(options.output, process.stdout), stdout: process.stdout, stderr: process.stderr });
  const api = createGraphQLClient(client);
  return {
    api,
    out,
    whatIf: options.whatIf === true,
    confirm: (description) => api.outsideTimeout(() => confirmChange({ stdin: process.stdin, stderr: process.stderr }, { yes: options.yes === true }, description)),
  };
}

/** Runs the verb; a CliError becomes one line on stderr and its exit code. */
export function onRun<Options extends object>(command: Command, handler: (ctx: VerbContext, options: Options, args: (string | undefined)[]) => Promise<void>): Command {
  return command.action(async (...received: unknown[]) => {
    const options = command.opts<Options & CommonOptions>();
    const args = received.slice(0, command.registeredArguments.length).map((a) => (typeof a === 'string' ? a : undefined));
    try {
      await handler(contextFor(options), options, args);
    } catch (err) {
      const failure = err instanceof CliError ? err : new CliError(ExitCode.failure, `unexpected error: ${err instanceof Error ? err.message : String(err)}`);
      process.stderr.write(`sendguard ${command.name()}: ${failure.message}\n`);
      process.exitCode = failure.exitCode;
    }
  });
}
