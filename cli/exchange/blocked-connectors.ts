import type { Command } from 'commander';
import { z } from 'zod';
import { releaseInputError } from '../../domain/unblock/release-validation.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { GraphQLClient } from './graphql-client.ts';
import type { Row } from './output.ts';
import { fetchAllPages, pageOf } from './pages.ts';
import { ERROR_SELECTION, successOr } from './typed-errors.ts';
import { defineVerb, onRun } from './verb.ts';
import { checkWhatIf } from './what-if.ts';

const restrictedConnector = z.object({
  connectorId: z.string(),
  connectorName: z.string().nullable(),
  reason: z.string(),
  restrictedAt: z.string(),
  changedAt: z.string(),
  temporary: z.boolean(),
  expiresAt: z.string().nullable(),
});
type RestrictedConnector = z.infer<typeof restrictedConnector>;

const CONNECTOR_FIELDS = 'connectorId connectorName reason restrictedAt changedAt temporary expiresAt';

const LIST = `query GetBlockedConnector($after: String, $filter: RestrictionFilter) {
  restrictedConnectors(first: 100, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { ${CONNECTOR_FIELDS} } }
  }
}`;

const UNBLOCK = `mutation RemoveBlockedConnector($input: UnblockConnectorInput!) {
  unblockConnector(input: $input) {
    ${ERROR_SELECTION}
    ... on UnblockConnectorSuccess { restrictedConnector { connectorId connectorName status releasedAt releasedBy releaseReason } }
  }
}`;

const unblocked = z.object({
  restrictedConnector: z.object({
    connectorId: z.string(),
    connectorName: z.string().nullable(),
    status: z.string(),
    releasedAt: z.string().nullable(),
    releasedBy: z.string().nullable(),
    releaseReason: z.string().nullable(),
  }),
});

/** Named like Get-BlockedSenderAddress's properties, with the connector's id and name in front. */
function toExchange(c: RestrictedConnector): Row {
  return {
    ConnectorId: c.connectorId,
    ConnectorName: c.connectorName,
    Reason: c.reason,
    CreatedDatetime: c.restrictedAt,
    ChangedDatetime: c.changedAt,
    TemporaryBlock: c.temporary,
    ExpiresDatetime: c.expiresAt,
  };
}

const COLUMNS = ['ConnectorId', 'ConnectorName', 'Reason', 'CreatedDatetime', 'TemporaryBlock'];

async function listBlocked(api: GraphQLClient, search?: string): Promise<RestrictedConnector[]> {
  const schema = z.object({ restrictedConnectors: pageOf(restrictedConnector) });
  const filter = search ? { search } : null;
  return fetchAllPages((after) => api.request(LIST, { after, filter }, schema).then((d) => d.restrictedConnectors));
}

async function activeRestriction(api: GraphQLClient, connectorId: string): Promise<RestrictedConnector> {
  if (connectorId.trim() === '') throw new CliError(ExitCode.usage, 'the connector id is empty: give the id of a blocked connector');
  const found = (await listBlocked(api, connectorId)).find((c) => c.connectorId.toLowerCase() === connectorId.trim().toLowerCase());
  if (!found) throw new CliError(ExitCode.notFound, `${connectorId} is not a blocked connector`);
  return found;
}

function registerGet(program: Command): void {
  const command = defineVerb(program, { name: 'get-blocked-connector', cmdlet: 'Get-BlockedConnector', description: 'list the inbound connectors restricted from sending, or one of them' }, (c) =>
    c.option('--connector-id <guid>', 'only this connector (exit code 3 when it is not restricted)'),
  );
  onRun<{ connectorId?: string }>(command, async ({ api, out }, options) => {
    const connectors = options.connectorId !== undefined ? [await activeRestriction(api, options.connectorId)] : await listBlocked(api);
    out.list(connectors.map(toExchange), COLUMNS);
  });
}

function registerRemove(program: Command): void {
  const spec = { name: 'remove-blocked-connector', cmdlet: 'Remove-BlockedConnector', description: 'release a restricted inbound connector', effect: 'destructive' } as const;
  const command = defineVerb(program, spec, (c) =>
    c.requiredOption('--connector-id <guid>', 'the restricted connector').option('--reason <text>', 'why it may send again (kept with the release and in the audit log)', ''),
  );
  onRun<{ connectorId: string; reason: string }>(command, async ({ api, out, whatIf, confirm }, options) => {
    const blocked = await activeRestriction(api, options.connectorId);
    const name = blocked.connectorName ? ` "${blocked.connectorName}"` : '';
    const description = `Releasing the blocked connector ${blocked.connectorId}${name} (blocked since ${blocked.restrictedAt}; ${blocked.reason}).`;
    if (whatIf) {
      await checkWhatIf(api, 'unblockConnector', () => releaseInputError({ reason: options.reason, acknowledgedRecommendations: [] }));
      return out.note(`What if: ${description} Nothing was changed.`);
    }
    await confirm(description);
    const { unblockConnector } = await api.request(UNBLOCK, { input: { connectorId: blocked.connectorId, reason: options.reason } }, z.object({ unblockConnector: z.unknown() }));
    const released = successOr(unblockConnector, unblocked).restrictedConnector;
    out.record({
      ConnectorId: released.connectorId,
      ConnectorName: released.connectorName,
      Status: released.status,
      ReleasedDatetime: released.releasedAt,
      ReleasedBy: released.releasedBy,
      ReleaseReason: released.releaseReason,
    });
    out.note(`Released connector ${released.connectorId}: its servers can relay again.`);
  });
}

export function registerBlockedConnectorVerbs(program: Command): void {
  registerGet(program);
  registerRemove(program);
}
