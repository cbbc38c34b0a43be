import type { Command } from 'commander';
import { z } from 'zod';
import { relayUsernameSpellings, validPassword, validUsername } from '../../domain/relay/relay-credential-input.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import type { Row } from './output.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

const relayCredential = z.object({ username: z.string(), createdAt: z.string() });
type RelayCredential = z.infer<typeof relayCredential>;

const LIST = 'query GetRelayCredential { relayCredentials { username createdAt } }';
const mutation = (operation: string, name: string, input: string) => `mutation ${operation}($input: ${input}!) {
  ${name}(input: $input) { ${ERROR_SELECTION} ... on ${name.charAt(0).toUpperCase()}${name.slice(1)}Success { relayCredential { username createdAt } } }
}`;

const toRow = (c: RelayCredential): Row => ({ UserName: c.username, WhenCreated: c.createdAt });
const COLUMNS = ['UserName', 'WhenCreated'];

async function findCredential(api: GraphQLClient, username: string): Promise<RelayCredential> {
  const { relayCredentials } = await api.request(LIST, {}, z.object({ relayCredentials: z.array(relayCredential) }));
  const found = relayUsernameSpellings(username)
    .map((spelling) => relayCredentials.find((c) => c.username === spelling))
    .find((c) => c !== undefined);
  if (!found) throw new CliError(ExitCode.notFound, `there is no relay credential "${username}" (get-relay-credential lists them)`);
  return found;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

function passwordOptions(command: Command): Command {
  return command
    .option('--password <password>', 'the password (at least 12 characters); prefer --password-stdin, which keeps it out of shell history and process lists')
    .option('--password-stdin', 'read the password from stdin (one trailing newline is dropped)');
}

/** The password from exactly one of --password and --password-stdin. */
async function passwordFrom(options: PasswordOptions): Promise<string> {
  if (options.password !== undefined && options.passwordStdin) throw new CliError(ExitCode.usage, 'give the password with --password or --password-stdin, not both');
  if (options.password !== undefined) return options.password;
  if (!options.passwordStdin) throw new CliError(ExitCode.usage, 'give the password with --password-stdin (or --password)');
  const password = (await readStdin(process.stdin)).replace(/\r?\n$/, '');
  if (password.length === 0) throw new CliError(ExitCode.usage, '--password-stdin read no password');
  return password;
}

function registerGet(program: Command): void {
  const spec = { name: 'get-relay-credential', cmdlet: 'Get-RelayCredential', description: "list the SMTP relay's credentials (user names, never passwords), or one of them" };
  const command = defineVerb(program, spec, (c) => c.option('--username <name>', 'only this user name (exit code 3 when there is none)'));
  onRun<{ username?: string }>(command, async ({ api, out }, options) => {
    const credentials = options.username
      ? [await findCredential(api, options.username)]
      : (await api.request(LIST, {}, z.object({ relayCredentials: z.array(relayCredential) }))).relayCredentials;
    out.list(credentials.map(toRow), COLUMNS);
  });
}

function registerNew(program: Command): void {
  const spec = { name: 'new-relay-credential', cmdlet: 'New-RelayCredential', description: 'create a user name and password for SMTP AUTH at the built-in relay', effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) => passwordOptions(c.requiredOption('--username <name>', 'the SMTP AUTH user name, e.g. scanner@contoso.com')));
  onRun<PasswordOptions & { username: string }>(command, async ({ api, out, whatIf }, options) => {
    const password = await passwordFrom(options);
    // -WhatIf is the call itself as a dry run: the server refuses what it would (a user name taken
    // included, which only the database knows) and writes nothing.
    const input = { username: options.username, password, dryRun: whatIf };
    const { createRelayCredential } = await api.request(mutation('NewRelayCredential', 'createRelayCredential', 'CreateRelayCredentialInput'), { input }, z.object({ createRelayCredential: z.unknown() }));
    const created = successOr(createRelayCredential, z.object({ relayCredential })).relayCredential;
    if (whatIf) return out.note(`What if: Creating relay credential "${created.username}". Nothing was changed.`);
    out.record(toRow(created));
    out.note(`Created relay credential "${created.username}": it can authenticate to the SMTP relay now.`);
  });
}

function registerSet(program: Command): void {
  const spec = { name: 'set-relay-credential', cmdlet: 'Set-RelayCredential', description: "reset a relay credential's password", effect: 'changes' } as const;
  const command = defineVerb(program, spec, (c) => passwordOptions(c.requiredOption('--username <name>', 'the relay credential')));
  onRun<PasswordOptions & { username: string }>(command, async ({ api, out, whatIf }, options) => {
    const password = await passwordFrom(options);
    const current = await findCredential(api, options.username);
    if (whatIf) {
      await checkWhatIf(api, 'resetRelayCredentialPassword', () => {
        validUsername(current.username);
        validPassword(password);
      });
      return out.note(`What if: Resetting the password of relay credential "${current.username}". Nothing was changed.`);
    }
    const input = { username: current.username, password };
    const { resetRelayCredentialPassword } = await api.request(
      mutation('SetRelayCredential', 'resetRelayCredentialPassword', 'ResetRelayCredentialPasswordInput'),
      { input },
      z.object({ resetRelayCredentialPassword: z.unknown() }),
    );
    out.record(toRow(successOr(resetRelayCredentialPassword, z.object({ relayCredential })).relayCredential));
    out.note(`Reset the password of relay credential "${current.username}": the old one no longer authenticates.`);
  });
}

function registerRemove(program: Command): void {
  const spec = { name: 'remove-relay-credential', cmdlet: 'Remove-RelayCredential', description: 'delete a relay credential, so it no longer authenticates', effect: 'destructive' } as const;
  const command = defineVerb(program, spec, (c) => c.requiredOption('--username <name>', 'the relay credential'));
  onRun<{ username: string }>(command, async ({ api, out, whatIf, confirm }, options) => {
    const current = await findCredential(api, options.username);
    const description = `Deleting relay credential "${current.username}" (created ${current.createdAt}): clients using it can no longer authenticate to the SMTP relay.`;
    if (whatIf) {
      await checkWhatIf(api, 'deleteRelayCredential');
      return out.note(`What if: ${description} Nothing was changed.`);
    }
    await confirm(description);
    const { deleteRelayCredential } = await api.request(mutation('RemoveRelayCredential', 'deleteRelayCredential', 'DeleteRelayCredentialInput'), { input: { username: current.username } }, z.object({ deleteRelayCredential: z.unknown() }));
    out.record(toRow(successOr(deleteRelayCredential, z.object({ relayCredential })).relayCredential));
    out.note(`Deleted relay credential "${current.username}".`);
  });
}

export function registerRelayCredentialVerbs(program: Command): void {
  registerGet(program);
  registerNew(program);
  registerSet(program);
  registerRemove(program);
}
