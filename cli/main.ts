import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/config.ts';
import { loadConfig, type Config } from '../config/load-config.ts';
import { openDatabase } from '../db/client.ts';
import { createLogger } from './logger.ts';
import { roles, startSendguard, type Role, type RunningSendguard } from './serve.ts';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sendguard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function parseRoles(value: string): Role[] {
  const wanted = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((r) => !(roles as readonly string[]).includes(r));
  if (unknown.length > 0 || wanted.length === 0) throw new InvalidArgumentError(`roles are ${roles.join(', ')}`);
  return wanted as Role[];
}

async function serve(options: { only?: Role[] }): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel);
  // Signal handlers go in before anything starts, so a stop requested during start-up is
  // honoured once start-up completes instead of killing the process half-way.
  const state: { running?: RunningSendguard; stopping?: string } = {};
  const shutdown = (signal: string) => {
    if (state.stopping && state.running) return;
    state.stopping = signal;
    if (!state.running) return;
    logger.info({ signal }, 'shutting down');
    state.running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  state.running = await startSendguard(config, { roles: options.only, logger });
  for (const [name, url] of Object.entries(state.running.urls)) process.stdout.write(`sendguard ${name} listening on ${url}\n`);
  if (state.stopping) shutdown(state.stopping);
}

async function migrate(): Promise<void> {
  const config = configOrExit();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  process.stdout.write('migrations applied\n');
}

export function buildProgram(): Command {
  const program = new Command('sendguard').description('Keeps compromised or runaway senders from sending; lets admins release them safely and fast.');
  program
    .command('serve')
    .description('start Sendguard (HTTP API and bot, policy server, SMTP relay)')
    .option('--only <roles>', `run only these roles (${roles.join(',')})`, parseRoles)
    .action(serve);
  program.command('migrate').description('apply database migrations and exit').action(migrate);
  return program;
}

await buildProgram().parseAsync(process.argv);
