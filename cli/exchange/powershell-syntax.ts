import type { Command } from 'commander';
import { isApiVerb } from './verb.ts';
import { booleanValue } from './option-values.ts';

/** PowerShell compares names case-insensitively; dashes in our verbs and options do not count either. */
function key(name: string): string {
  return name.toLowerCase().replace(/-/g, '');
}

function findVerb(program: Command, name: string): Command | undefined {
  const wanted = key(name);
  return program.commands.find((c) => isApiVerb(c) && [c.name(), ...c.aliases()].some((n) => key(n) === wanted));
}

const POWERSHELL_PARAMETER = /^-([A-Za-z][A-Za-z0-9]+)(?::(.*))?$/s;
const FALSE = /^\$?false$/i;

/**
 * A POSIX shell takes an unquoted `$false` for a variable and drops it: `-Enabled $false` arrives
 * as `-Enabled` and `-Confirm:$false` as `-Confirm:`. Read as a switch, the first would turn the
 * policy on; so, as in PowerShell, a boolean parameter needs its value.
 */
class MissingBooleanValue extends Error {
  constructor(parameter: string) {
    super(`${parameter} needs a value, $true or $false: quote it in a POSIX shell ('$false'), or write true or false`);
  }
}

/** `-Name`, `-Name:value`, and the common parameters -Confirm and -WhatIf, as the verb's own long options. */
function translateParameter(verb: Command, token: string, next: string | undefined): string[] {
  const match = POWERSHELL_PARAMETER.exec(token);
  if (!match?.[1]) return [token];
  const [, name, value] = match;
  const has = (long: string) => verb.options.some((o) => o.long === long);
  if (key(name) === 'confirm') {
    // Only a destructive verb asks, so only there does the lost value matter.
    if (value === '' && has('--yes')) throw new MissingBooleanValue(token);
    // -Confirm:$false skips the prompt; -Confirm (or :$true) is what a destructive verb does anyway.
    return value !== undefined && FALSE.test(value) && has('--yes') ? ['--yes'] : [];
  }
  if (key(name) === 'whatif') return value !== undefined && FALSE.test(value) ? [] : has('--what-if') ? ['--what-if'] : [token];
  const option = verb.options.find((o) => o.long !== undefined && key(o.long) === key(name));
  if (!option?.long) return [token];
  // Only a boolean takes an optional value here (booleanSwitch); its `--kebab-case` spelling still works alone.
  if (option.optional && (value === '' || (value === undefined && booleanValue(next ?? '') === undefined))) throw new MissingBooleanValue(token);
  return value === undefined ? [option.long] : [`${option.long}=${value}`];
}

/**
 * PowerShell reads `-From a@x.com, b@x.com` as one array whatever the spaces; a POSIX shell hands
 * over `a@x.com,` and `b@x.com`. A word ending in a comma is joined with the value after it.
 */
function joinListContinuations(tokens: readonly string[]): string[] {
  const joined: string[] = [];
  for (const [i, token] of tokens.entries()) {
    if (token === '--') return [...joined, ...tokens.slice(i)];
    const previous = joined.at(-1);
    if (previous !== undefined && previous.endsWith(',') && !token.startsWith('-')) joined[joined.length - 1] = previous + token;
    else joined.push(token);
  }
  return joined;
}

/**
 * Accepts the Exchange Online PowerShell spelling of a verb and its parameters, so that
 * `sendguard Get-BlockedSenderAddress -SenderAddress a@b.c` and `-Confirm:$false` work as typed in
 * PowerShell. Other commands (`serve`, `migrate`, …) are left alone.
 */
export function fromPowerShellSyntax(program: Command, argv: readonly string[]): string[] {
  const [node = '', script = '', first, ...words] = argv;
  const verb = first === undefined || first.startsWith('-') ? undefined : findVerb(program, first);
  if (!verb || first === undefined) return [...argv];
  const rest = joinListContinuations(words);
  const translated: string[] = [];
  for (const [i, token] of rest.entries()) {
    if (token === '--') {
      translated.push(...rest.slice(i));
      break;
    }
    try {
      translated.push(...translateParameter(verb, token, rest[i + 1]));
    } catch (err) {
      if (!(err instanceof MissingBooleanValue)) throw err;
      // A usage error, reported and ended (exit code 2) as commander's own are.
      verb.error(`error: ${err.message}`);
    }
  }
  return [node, script, verb.name(), ...translated];
}
