import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from './exit-codes.ts';

interface Terminal {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/**
 * Asks before a destructive change, as Exchange's ConfirmImpact=High cmdlets do. `--yes`
 * (`-Confirm:$false`) skips the question. Without a terminal to ask on, the verb refuses rather
 * than proceed: a script must say `--yes` explicitly, the way Exchange needs `-Confirm:$false`.
 */
export async function confirmChange(terminal: Terminal, options: { yes: boolean }, description: string): Promise<void> {
  if (options.yes) return;
  if (!terminal.stdin.isTTY) {
    throw new CliError(ExitCode.usage, `refusing to go ahead without confirmation (${description}): stdin is not a terminal. Pass --yes (or -Confirm:'$false') to confirm.`);
  }
  const rl = createInterface({ input: terminal.stdin, output: terminal.stderr });
  // End of input (Ctrl-D) is a "no".
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const question = rl.question(`Confirm\nAre you sure you want to perform this action?\n${description}\n[Y] Yes  [N] No (default is "N"): `);
    const answer = await Promise.race([question.catch(() => ''), closed]);
    if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CliError(ExitCode.failure, 'Cancelled: nothing was changed.');
  } finally {
    rl.close();
  }
}

/** `--what-if`: say what the verb would do, and do nothing. */
export function whatIfLine(description: string): string {
  return `What if: ${description}`;
}
