import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.ts';
import { parseDateTime, parseList } from './option-values.ts';
import type { Row } from './output.ts';
import { fetchAllPages, pageOf } from './pages.ts';
import { defineVerb, onRun } from './verb.ts';

const auditRecord = z.object({
  occurredAt: z.string(),
  actorId: z.string(),
  actorName: z.string(),
  actorRoles: z.array(z.string()),
  source: z.string(),
  action: z.string(),
  targetKind: z.string(),
  target: z.string(),
  result: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  details: z.unknown(),
});
type AuditRecord = z.infer<typeof auditRecord>;

const SEARCH = `query SearchAuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { occurredAt actorId actorName actorRoles source action targetKind target result before after details } }
  }
}`;

const PAGE_SIZE = 200;
const DEFAULT_RESULT_SIZE = 100;

/** Search-UnifiedAuditLog's columns; what Exchange packs into the AuditData JSON stays an object here. */
function toExchange(r: AuditRecord): Row {
  return {
    CreationDate: r.occurredAt,
    UserIds: r.actorId,
    UserDisplayName: r.actorName,
    Operations: r.action,
    ObjectId: r.target,
    ObjectType: r.targetKind,
    ResultStatus: r.result === 'SUCCESS' ? 'Success' : r.result === 'FAILURE' ? 'Failure' : r.result,
    AuditData: { Roles: r.actorRoles, Source: r.source, Before: r.before, After: r.after, Details: r.details },
  };
}

const COLUMNS = ['CreationDate', 'UserIds', 'Operations', 'ObjectId', 'ResultStatus'];

function parseResultSize(value: string): number {
  if (/^unlimited$/i.test(value.trim())) return Number.POSITIVE_INFINITY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number or Unlimited');
  return n;
}

interface SearchOptions {
  startDate?: Date;
  endDate?: Date;
  userIds?: string;
  operations?: string[];
  objectIds?: string;
  resultSize: number;
}

export function registerAuditLogVerbs(program: Command): void {
  const spec = { name: 'search-audit-log', cmdlet: 'Search-UnifiedAuditLog', otherCmdlets: ['Search-AdminAuditLog'], description: 'search the audit log, newest first' } as const;
  const command = defineVerb(program, spec, (c) =>
    c
      .option('--start-date <date>', 'from this time (ISO-8601; a date without a zone is UTC)', parseDateTime)
      .option('--end-date <date>', 'up to this time', parseDateTime)
      .option('--user-ids <actor>', "the actor's id, or part of their name")
      .option('--operations <actions>', 'the actions, comma-separated, e.g. Listed,Delisted or UpdateAlertPolicy', parseList)
      .option('--object-ids <target>', 'part of the target: an address, a policy name')
      .option('--result-size <n>', `at most this many records, or Unlimited (default ${DEFAULT_RESULT_SIZE})`, parseResultSize, DEFAULT_RESULT_SIZE),
  );
  onRun<SearchOptions>(command, async ({ api, out }, options) => {
    if (options.startDate && options.endDate && options.startDate > options.endDate) throw new CliError(ExitCode.usage, '--start-date must not be after --end-date');
    const filter = { from: options.startDate?.toISOString(), to: options.endDate?.toISOString(), actor: options.userIds, target: options.objectIds };
    const schema = z.object({ auditLog: pageOf(auditRecord) });
    const first = Math.min(PAGE_SIZE, options.resultSize);
    const search = (action: string | undefined) =>
      fetchAllPages((after) => api.request(SEARCH, { first, after, filter: { ...filter, action } }, schema).then((d) => d.auditLog), options.resultSize);
    // The API matches one action, in any case; a record has one, so the searches of actions that
    // differ in more than case never overlap (one spelled twice is searched once).
    const operations = [...new Map((options.operations ?? []).map((o) => [o.toLowerCase(), o])).values()];
    const actions = operations.length ? operations : [undefined];
    const records = (await Promise.all(actions.map(search))).flat();
    if (actions.length > 1) records.sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt));
    out.list(records.slice(0, options.resultSize).map(toExchange), COLUMNS);
  });
}
