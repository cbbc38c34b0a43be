import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from './duration.ts';
import { recognizeRole } from '../domain/roles/role-catalog.ts';
import { ConfigError } from '../config/config.ts';
import { DatabaseUnavailableError } from './start-errors.ts';
import { loadConfig, type Config } from '../config/load-config.ts';
import { roles, type Role } from './roles.ts';
import { holdEventLoop } from './event-loop.ts';
import type { Logger } from './logger.ts';
import type { RunningSendguard } from './serve.ts';
import { fromPowerShellSyntax } from './exchange/powershell-syntax.ts';
import { registerAdminVerbs } from './exchange/register.ts';
import { registerTeamsPackageCommand } from '../bot/teams-app/teams-package-command.ts';

// The server, the database client and the schema are imported by the commands that use them, so
// the admin verbs, which only speak HTTP, start without loading them.

/**
 * A configuration error ends the command with exit code 2 and one line naming the variable; a
 * database that cannot be reached at start-up, with exit code 1 and one line.
 */
function exitOnConfigError(err: unknown): void {
  if (err instanceof ConfigError) {
    process.stderr.write(`sendguard: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof DatabaseUnavailableError) {
    process.stderr.write(`sendguard: ${err.message}\n`);
    process.exit(1);
  }
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
}

function parseRoles(value: string): Role[] {
  const wanted = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((r) => !(roles as readonly string[]).includes(r));
  if (unknown.length > 0 || wanted.length === 0) throw new InvalidArgumentError(`roles are ${roles.join(', ')}`);
  return wanted as Role[];
}

/**
 * Stops `serve` on SIGTERM or SIGINT: the listeners close first, then the database. A signal
 * during start-up is honoured once start-up completes, so nothing is killed half-way. A stop that
 * takes longer than `shutdownTimeoutMs` (a database that stopped answering holds the last lease
 * reports) ends the process anyway, and a second signal ends it at once: what was not written back
 * is on the safe side (a lease not given back stays counted in full; an alert not raised is caught
 * up on by a start within the hour).
 */
function stopOnSignals(config: Config, logger: Logger): { started(running: RunningSendguard): void } {
  let running: RunningSendguard | undefined;
  let signalled: string | undefined;
  const stop = (server: RunningSendguard) => {
    logger.info({ signal: signalled }, 'shutting down');
    // Held until the process exits: the listeners close first, and the database after them.
    holdEventLoop();
    setTimeout(() => {
      logger.error({ waitingFor: server.stopping, timeoutMs: config.shutdownTimeoutMs }, 'shutdown took longer than SENDGUARD_SHUTDOWN_TIMEOUT_MS; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (signalled) {
      logger.warn({ signal, waitingFor: running?.stopping ?? 'start-up' }, 'second signal; exiting at once');
      process.exit(1);
    }
    signalled = signal;
    if (running) stop(running);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  return {
    started(server) {
      running = server;
      if (signalled) stop(server);
    },
  };
}

async function serve(options: { only?: Role[] }): Promise<void> {
  const config = configOrExit();
  const [{ createLogger }, { startSendguard }] = await Promise.all([import('./logger.ts'), import('./serve.ts')]);
  const logger = createLogger(config.logLevel);
  // Signal handlers go in before anything starts.
  const signals = stopOnSignals(config, logger);
  let running: RunningSendguard;
  try {
    // A bot asked for by name must start: its configuration errors stop start-up before anything opens.
    if (options.only?.includes('bot')) (await import('../bot/bot-config.ts')).checkBotConfig(config, { apiInProcess: options.only.includes('api') });
    // So must a relay: without a smarthost it has nowhere to send, and the process would serve nothing.
    if (options.only?.includes('smtp') && !config.smtpRelay.smarthost) {
      throw new ConfigError('SENDGUARD_SMARTHOST', 'must be set to run the SMTP relay (serve --only smtp): the smtp://host:port it forwards accepted mail to');
    }
    logger.info({ roles: options.only ?? roles, database: config.databaseUrl ? 'postgres' : 'pglite' }, 'sendguard starting');
    running = await startSendguard(config, { roles: options.only, logger });
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
  for (const [name, url] of Object.entries(running.urls)) process.stdout.write(`sendguard ${name} listening on ${url}\n`);
  signals.started(running);
}

async function migrate(): Promise<void> {
  const config = configOrExit();
  const { openConfiguredDatabase } = await import('./serve.ts');
  let database;
  try {
    database = await openConfiguredDatabase(config);
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
  await database.close();
  process.stdout.write('migrations applied\n');
}

function parseRole(value: string, previous: string[]): string[] {
  const role = recognizeRole(value);
  if (!role) throw new InvalidArgumentError(`${value} is not a role Sendguard knows (e.g. "Security Administrator", "Global Reader")`);
  return [...previous, role];
}

/** Longest lifetime `sendguard token` gives a token: a year. */
const MAX_TOKEN_LIFETIME_DAYS = 365;

function parseExpiry(value: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  if (seconds > MAX_TOKEN_LIFETIME_DAYS * 86_400) throw new InvalidArgumentError(`a token lives at most ${MAX_TOKEN_LIFETIME_DAYS}d (a year); mint a new one when it expires`);
  return seconds;
}

async function token(options: { tenant: string; principal: string; role: string[]; name?: string; expires: number }): Promise<void> {
  const config = configOrExit();
  const [{ loadOrCreateSigningKey }, { mintLocalToken }] = await Promise.all([import('../api/auth/signing-key.ts'), import('../api/auth/local-token.ts')]);
  const key = await loadOrCreateSigningKey(config.auth.signingKeyFile);
  const jwt = await mintLocalToken(
    key,
    { issuer: config.auth.tokenIssuer, audience: config.auth.tokenAudience },
    { tenantId: options.tenant, principalId: options.principal, name: options.name, roles: options.role },
    { expiresInSeconds: options.expires },
  );
  process.stdout.write(`${jwt}\n`);
}

export function buildProgram(): Command {
  const program = new Command('sendguard').description('Keeps compromised or runaway senders from sending; lets admins release them safely and fast.');
  program
    .command('serve')
    .description('start Sendguard (HTTP API and bot, policy server, SMTP relay)')
    .option('--only <roles>', `run only these roles (${roles.join(',')})`, parseRoles)
    .action(serve);
  program.command('migrate').description('apply database migrations and exit').action(migrate);
  program
    .command('token')
    .description("print a bearer token for the GraphQL API, signed with this instance's key")
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--principal <id>', 'object id or user principal name of the admin')
    .requiredOption('--role <role>', 'role to carry (repeatable), e.g. "Security Administrator"', parseRole, [])
    .option('--name <name>', 'display name')
    .addOption(new Option('--expires <duration>', `lifetime such as 30m, 1h, 7d (at most ${MAX_TOKEN_LIFETIME_DAYS}d)`).argParser(parseExpiry).default(3600, '1h'))
    .action(token);
  program
    .command('print-schema')
    .description('print the GraphQL schema (SDL)')
    .action(async () => {
      const [{ printSchema }, { schema }] = await Promise.all([import('graphql'), import('../api/schema/index.ts')]);
      process.stdout.write(`${printSchema(schema)}\n`);
    });
  registerAdminVerbs(program);
  registerTeamsPackageCommand(program);
  return program;
}

const program = buildProgram();
// Held while a command runs (see holdEventLoop); `serve` then runs on its listeners.
const release = holdEventLoop();
try {
  await program.parseAsync(fromPowerShellSyntax(program, process.argv));
} finally {
  release();
}
