import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { captureLogs } from '../helpers/logs.ts';
import { openSse } from '../helpers/subscriptions.ts';

const ERROR = 50;
const logs = captureLogs('debug');
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ logger: logs.logger });
});
afterAll(async () => api.stop());

/** What was logged while `run` ran. */
async function loggedDuring(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const before = logs.lines.length;
  await run();
  logs.logger.flush();
  return logs.entries().slice(before);
}

const nest = (levels: number, inner: string) => `${'history { '.repeat(levels)}${inner}${' }'.repeat(levels)}`;

describe('the log', () => {
  it.each([
    ['a cursor the API did not issue', '{ restrictedUsers(after: "bogus") { totalCount } }', 'BAD_USER_INPUT'],
    ['a page over 100', '{ restrictedUsers(first: 1000) { totalCount } }', 'BAD_USER_INPUT'],
    ['from after to', '{ auditLog(filter: { from: "2027-01-02T00:00:00Z", to: "2027-01-01T00:00:00Z" }) { totalCount } }', 'BAD_USER_INPUT'],
    ['a query nested too deeply', `{ restrictedUsers { edges { node { ${nest(8, 'id')} } } } }`, 'QUERY_TOO_COMPLEX'],
    ['a query too expensive', '{ restrictedUsers(first: 100) { edges { node { history { releases { reason } history { id } } } } } }', 'QUERY_TOO_EXPENSIVE'],
  ])('holds a client mistake (%s) below error level and without a stack, so no error alert fires', async (_name, query, code) => {
    const token = await api.token({ tenantId: (await createTestTenant(api.database)).id });
    const entries = await loggedDuring(async () => expect(errorCodes(await api.gql(token, query))).toEqual([code]));
    expect(entries.filter((e) => Number(e.level) >= ERROR)).toEqual([]);
    expect(JSON.stringify(entries)).not.toMatch(/"stack"/);
  });

  it('holds a subscription refused for its resume point below error level', async () => {
    const token = await api.token({ tenantId: (await createTestTenant(api.database)).id });
    const entries = await loggedDuring(async () => {
      for (const after of ['yesterday', '2147483648']) {
        const stream = await openSse(api.graphqlUrl, token, 'subscription($after: ID) { restrictionEvents(afterEventId: $after) { __typename } }', { variables: { after } });
        expect((await stream.next())?.data.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        stream.close();
      }
    });
    expect(entries.filter((e) => Number(e.level) >= ERROR)).toEqual([]);
    expect(entries.filter((e) => e.code === 'BAD_USER_INPUT').map((e) => e.message)).toEqual(['afterEventId (or Last-Event-ID) must be an eventId this API sent', 'afterEventId (or Last-Event-ID) must be an eventId this API sent']);
  });

  it('keeps an unexpected failure at error level with its details, while the client sees it masked', async () => {
    const token = await api.token({ tenantId: (await createTestTenant(api.database)).id });
    const entries = await loggedDuring(async () => {
      // A real internal fault: the table the query reads is gone.
      await api.database.rows(sql`alter table audit_log rename to audit_log_gone`);
      try {
        const res = await api.gql(token, '{ auditLog { totalCount } }');
        expect(res.body.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
      } finally {
        await api.database.rows(sql`alter table audit_log_gone rename to audit_log`);
      }
    });
    const errors = entries.filter((e) => Number(e.level) >= ERROR) as { msg: string; err?: { message: string; stack: string } }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe('graphql request failed');
    expect(errors[0]?.err?.message).toMatch(/audit_log/);
    expect(errors[0]?.err?.stack).toMatch(/\n\s+at /);
  });
});
