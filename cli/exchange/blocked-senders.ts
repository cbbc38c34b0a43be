import type { Command } from 'commander';
import { z } from 'zod';
import { releaseInputError } from '../../domain/unblock/release-validation.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import { parseEnumList } from './option-values.ts';
import { fetchAllPages, pageOf } from './pages.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

/** The API's RecommendationKind enum: a kind it does not know is a usage error here, before anything is asked. */
export const recommendationKinds = ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS', 'REMOVE_FORWARDING_AND_INBOX_RULES', 'REVIEW_SIGN_INS'] as const;

/** Get-BlockedSenderAddress's properties, in its order. */
const BLOCKED_SENDER_COLUMNS = ['SenderAddress', 'Reason', 'CreatedDatetime', 'ChangedDatetime', 'TemporaryBlock'] as const;

const blockedSenderAddress = z.object({
  SenderAddress: z.string(),
  Reason: z.string(),
  CreatedDatetime: z.string(),
  ChangedDatetime: z.string(),
  TemporaryBlock: z.boolean(),
});

const restrictedUser = z.object({
  id: z.string(),
  status: z.string(),
  releasedAt: z.string().nullable(),
  releasedBy: z.string().nullable(),
  blockedSenderAddress,
});

const BLOCKED_SENDER_FIELDS = 'blockedSenderAddress { SenderAddress Reason CreatedDatetime ChangedDatetime TemporaryBlock }';

const LIST = `query GetBlockedSenderAddress($after: String) {
  restrictedUsers(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { ${BLOCKED_SENDER_FIELDS} } }
  }
}`;

const ONE = `query GetBlockedSenderAddressOne($senderAddress: String!) {
  restrictedUser(senderAddress: $senderAddress) { id status releasedAt releasedBy ${BLOCKED_SENDER_FIELDS} }
}`;

const UNBLOCK = `mutation RemoveBlockedSenderAddress($input: UnblockUserInput!) {
  unblockUser(input: $input) {
    ${ERROR_SELECTION}
    ... on UnblockUserSuccess { restrictedUser { senderAddress status releasedAt releasedBy releaseReason } }
  }
}`;

const unblocked = z.object({
  restrictedUser: z.object({ senderAddress: z.string(), status: z.string(), releasedAt: z.string().nullable(), releasedBy: z.string().nullable(), releaseReason: z.string().nullable() }),
});

/** The sender's active restriction (its id, and as Exchange shows it), or exit 3 saying why there is none. */
async function activeRestriction(api: GraphQLClient, senderAddress: string): Promise<{ id: string; blocked: z.infer<typeof blockedSenderAddress> }> {
  const { restrictedUser: found } = await api.request(ONE, { senderAddress }, z.object({ restrictedUser: restrictedUser.nullable() }));
  if (!found) throw new CliError(ExitCode.notFound, `${senderAddress} is not a blocked sender (it was never restricted)`);
  if (found.status !== 'RESTRICTED') {
    const since = found.releasedAt ? ` since ${found.releasedAt}${found.releasedBy ? ` (released by ${found.releasedBy})` : ''}` : '';
    throw new CliError(ExitCode.notFound, `${senderAddress} is not a blocked sender: its last restriction is ${found.status.toLowerCase()}${since}`);
  }
  return { id: found.id, blocked: found.blockedSenderAddress };
}

function registerGet(program: Command): void {
  const command = defineVerb(program, {
    name: 'get-blocked-sender-address',
    cmdlet: 'Get-BlockedSenderAddress',
    description: 'list the senders restricted from sending, or one of them',
  }, (c) => c.option('--sender-address <address>', 'only this sender (exit code 3 when it is not restricted)'));
  onRun<{ senderAddress?: string }>(command, async ({ api, out }, options) => {
    // An empty address (an unset shell variable) is refused by the API, not taken as "list them all".
    if (options.senderAddress !== undefined) return out.list([(await activeRestriction(api, options.senderAddress)).blocked], BLOCKED_SENDER_COLUMNS);
    const schema = z.object({ restrictedUsers: pageOf(z.object({ blockedSenderAddress })) });
    const nodes = await fetchAllPages((after) => api.request(LIST, { after }, schema).then((d) => d.restrictedUsers));
    out.list(
      nodes.map((n) => n.blockedSenderAddress),
      BLOCKED_SENDER_COLUMNS,
    );
  });
}

function registerRemove(program: Command): void {
  const command = defineVerb(program, {
    name: 'remove-blocked-sender-address',
    cmdlet: 'Remove-BlockedSenderAddress',
    description: 'release a restricted sender so it can send again (effective within a second)',
    effect: 'destructive',
  }, (c) =>
    c
      .requiredOption('--sender-address <address>', 'the restricted sender')
      .option('--reason <text>', 'why the sender may send again (kept with the release and in the audit log)', '')
      .option('--acknowledged-recommendations <kinds>', `steps taken, comma-separated, any case: ${recommendationKinds.join(', ')}`, parseEnumList(recommendationKinds), []),
  );
  type Options = { senderAddress: string; reason: string; acknowledgedRecommendations: string[] };
  onRun<Options>(command, async ({ api, out, whatIf, confirm }, options) => {
    const { id, blocked } = await activeRestriction(api, options.senderAddress);
    const description = `Releasing the blocked sender "${blocked.SenderAddress}" (blocked since ${blocked.CreatedDatetime}; ${blocked.Reason}).`;
    // The restriction confirmed is the one released: if the sender was released and restricted
    // again meanwhile, the server answers RestrictionChangedError and releases nothing.
    const input = {
      senderAddress: options.senderAddress, restrictionId: id, reason: options.reason,
      acknowledgedRecommendations: options.acknowledgedRecommendations,
    };
    const unblock = async (dryRun: boolean) => {
      const { unblockUser } = await api.request(UNBLOCK, { input: { ...input, dryRun } }, z.object({ unblockUser: z.unknown() }));
      return successOr(unblockUser, unblocked).restrictedUser;
    };
    if (whatIf) {
      await checkWhatIf(api, 'unblockUser', () => releaseInputError(options));
      // What only the server knows (the unblock quota, a second approval) refuses as the release would.
      await unblock(true);
      return out.note(`What if: ${description} Nothing was changed.`);
    }
    await confirm(description);
    const released = await unblock(false);
    out.record({ SenderAddress: released.senderAddress, Status: released.status, ReleasedDatetime: released.releasedAt, ReleasedBy: released.releasedBy, ReleaseReason: released.releaseReason });
    out.note(`Released ${released.senderAddress}: it can send again.`);
  });
}

export function registerBlockedSenderVerbs(program: Command): void {
  registerGet(program);
  registerRemove(program);
}
