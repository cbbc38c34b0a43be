import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../config/config.ts';
import { loadConfig } from '../../config/load-config.ts';
import { packageTeamsApp } from './package-app.ts';

interface TeamsPackageOptions {
  out: string;
  botDomain?: string;
  websiteUrl?: string;
  privacyUrl?: string;
  termsOfUseUrl?: string;
}

function fail(message: string): never {
  process.stderr.write(`sendguard: ${message}\n`);
  process.exit(2);
}

async function teamsPackage(options: TeamsPackageOptions): Promise<void> {
  let appId: string | undefined;
  try {
    appId = loadConfig().bot.appId;
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  if (!appId) fail('MicrosoftAppId must be set: the Teams app package names the bot by its Microsoft App ID');
  try {
    const result = await packageTeamsApp({
      appId,
      outFile: path.resolve(options.out),
      botDomain: options.botDomain,
      websiteUrl: options.websiteUrl,
      privacyUrl: options.privacyUrl,
      termsOfUseUrl: options.termsOfUseUrl,
    });
    const shown = path.relative(process.cwd(), result.outFile);
    process.stdout.write(`wrote ${shown && !shown.startsWith('..') ? shown : result.outFile} (${result.bytes} bytes) for bot ${appId}\n`);
  } catch (err) {
    fail((err as Error).message);
  }
}

/** `sendguard teams-package`: the Teams app zip (manifest and icons) for this deployment's bot. */
export function registerTeamsPackageCommand(program: Command): void {
  program
    .command('teams-package')
    .description('write the Teams app package (manifest.json, color.png, outline.png) for MicrosoftAppId, to sideload or upload')
    .option('--out <file>', 'where to write the zip', 'sendguard-teams.zip')
    .option('--bot-domain <host>', "the bot endpoint's public host name, listed in validDomains (e.g. sendguard.contoso.com)")
    .option('--website-url <url>', "your organization's page about Sendguard, shown in Teams")
    .option('--privacy-url <url>', 'privacy statement URL (default: <website-url>/privacy)')
    .option('--terms-of-use-url <url>', 'terms of use URL (default: <website-url>/termsofuse)')
    .action(teamsPackage);
}
