import type { Command, CommanderError } from 'commander';
import { registerAlertPolicyVerbs } from './alert-policies.ts';
import { registerAuditLogVerbs } from './audit-log.ts';
import { registerBlockedConnectorVerbs } from './blocked-connectors.ts';
import { registerBlockedSenderVerbs } from './blocked-senders.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import { registerOutboundSpamPolicyVerbs } from './outbound-spam-policies.ts';
import { registerOutboundSpamRuleVerbs } from './outbound-spam-rules.ts';
import { registerRelayCredentialVerbs } from './relay-credentials.ts';
import { registerUnblockSettingsVerbs } from './unblock-settings.ts';

/** Commander reports usage errors with exit code 1; ours is 2. Help and version stay 0. */
function exitWithUsageCode(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? ExitCode.success : ExitCode.usage);
}

const programHelp = `
Exchange Online cmdlet names and parameters are accepted as well, e.g.
  sendguard Get-BlockedSenderAddress -SenderAddress ann@contoso.com
  sendguard Remove-BlockedSenderAddress -SenderAddress ann@contoso.com -Confirm:'$false'

${exitCodesHelp}`;

/** The Exchange-style admin verbs; they call the GraphQL API over HTTP and never open the database. */
export function registerAdminVerbs(program: Command): void {
  program.exitOverride(exitWithUsageCode).addHelpText('after', programHelp);
  for (const existing of program.commands) existing.exitOverride(exitWithUsageCode);
  registerBlockedSenderVerbs(program);
  registerBlockedConnectorVerbs(program);
  registerOutboundSpamPolicyVerbs(program);
  registerOutboundSpamRuleVerbs(program);
  registerAlertPolicyVerbs(program);
  registerAuditLogVerbs(program);
  registerRelayCredentialVerbs(program);
  registerUnblockSettingsVerbs(program);
}
