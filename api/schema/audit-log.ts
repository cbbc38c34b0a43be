import type { AuditRecord } from '../../db/repos/audit-log.ts';
import type { AuditFilter } from '../../domain/audit/audit-queries.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { MAX_AUDIT_PAGE } from '../../domain/audit/audit-queries.ts';
import { builder } from '../builder.ts';
import { pageSize } from '../list-size.ts';
import { toConnection } from './connection.ts';

const AuditResultEnum = builder.enumType('AuditResult', { values: { SUCCESS: { value: 'Success' }, FAILURE: { value: 'Failure' } } as const });

const AuditRecordRef = builder.loadableNode('AuditRecord', {
  description: 'One audit record: who did what to what, with the state before and after. Records never change.',
  id: { resolve: (r: AuditRecord) => String(r.id) },
  load: (ids: string[], ctx) => ctx.services.auditQueries.byIds(ctx.viewer.tenantId, ids),
  fields: (t) => ({
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actorId: t.exposeString('actorId', { description: 'Entra object id, principal name, or system:<component>.' }),
    actorName: t.exposeString('actorName'),
    actorRoles: t.exposeStringList('actorRoles'),
    source: t.exposeString('source', { description: 'graphql, bot, cli, policy, smtp, scheduler.' }),
    action: t.exposeString('action', { description: 'Listed, Delisted, UpdateAlertPolicy, UpdateAlertStatus, …' }),
    targetKind: t.exposeString('targetKind'),
    target: t.exposeString('target'),
    before: t.expose('before', { type: 'JSON', nullable: true }),
    after: t.expose('after', { type: 'JSON', nullable: true }),
    result: t.field({ type: AuditResultEnum, resolve: (r) => r.result }),
    details: t.expose('details', { type: 'JSON', nullable: true }),
  }),
});

const AuditLogFilterInput = builder.inputType('AuditLogFilter', {
  fields: (t) => ({
    actor: t.string({ description: "The actor's id (exactly) or part of their name." }),
    action: t.string({ description: 'The action, in any case (e.g. Delisted or delisted).' }),
    target: t.string({
      description: 'Part of the target (an address, a policy name, an alert id), case-insensitive; an internationalised domain label written in UTF-8 also finds its ASCII form.',
    }),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
  }),
});

type FilterArg = { actor?: string | null; action?: string | null; target?: string | null; from?: Date | null; to?: Date | null } | null | undefined;

function toAuditFilter(f: FilterArg): AuditFilter {
  return { actor: f?.actor ?? undefined, action: f?.action ?? undefined, target: f?.target ?? undefined, from: f?.from ?? undefined, to: f?.to ?? undefined };
}

builder.queryField('auditLog', (t) =>
  t.connection(
    {
      type: AuditRecordRef,
      authScopes: { read: true },
      description: 'The audit log, newest first, paged forwards (first/after); at most 200 per page.',
      extensions: pageSize(MAX_AUDIT_PAGE, 50),
      args: { filter: t.arg({ type: AuditLogFilterInput }) },
      resolve: async (_root, args, { services, viewer }) => {
        if (args.last != null || args.before != null) throw new ValidationError(args.last != null ? 'last' : 'before', 'the audit log pages forwards only: use first and after');
        const page = await services.auditQueries.search(viewer.tenantId, toAuditFilter(args.filter), { first: args.first, after: args.after });
        return toConnection({ nodes: page.records, cursorOf: page.cursorOf, totalCount: page.totalCount, hasNextPage: page.hasNextPage, hasPreviousPage: Boolean(args.after) });
      },
    },
    { name: 'AuditRecordConnection' },
    { name: 'AuditRecordEdge' },
  ),
);

const AuditExportFormatEnum = builder.enumType('AuditExportFormat', {
  values: {
    CSV: { value: 'csv', description: 'RFC 4180: a header row, CRLF line ends; roles joined with ";", snapshots as JSON; a value starting with = + - @, a tab or a CR gets a leading apostrophe.' },
    JSON_LINES: { value: 'jsonl', description: 'One JSON object per line.' },
  } as const,
});

interface AuditExport {
  format: 'csv' | 'jsonl';
  recordCount: number;
  content: string;
}

const AuditLogExportRef = builder.objectRef<AuditExport>('AuditLogExport').implement({
  fields: (t) => ({
    format: t.field({ type: AuditExportFormatEnum, resolve: (e) => e.format }),
    contentType: t.string({ resolve: (e) => (e.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson') }),
    recordCount: t.exposeInt('recordCount'),
    content: t.exposeString('content'),
  }),
});

builder.queryField('auditLogExport', (t) =>
  t.field({
    type: AuditLogExportRef,
    authScopes: { read: true },
    description: 'The matching audit records, oldest first, as CSV or JSON lines (at most 50,000 per export; narrow the time range for more).',
    args: { format: t.arg({ type: AuditExportFormatEnum, required: true }), filter: t.arg({ type: AuditLogFilterInput }) },
    resolve: async (_root, args, { services, viewer }) => {
      const { text, count } = await services.auditQueries.exportText(viewer.tenantId, toAuditFilter(args.filter), args.format);
      return { format: args.format, recordCount: count, content: text };
    },
  }),
);
