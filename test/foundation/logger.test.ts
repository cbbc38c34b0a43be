import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { captureLogs } from '../helpers/logs.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

async function failedQuery(): Promise<unknown> {
  const reports = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ sender: `ann${i}@contoso.test`, used: i })));
  return database.rows(sql`select * from no_such_table where payload = ${reports}::jsonb and sender = ${'bob@contoso.test'}`).then(
    () => expect.unreachable('the query should fail'),
    (err: unknown) => err,
  );
}

describe('logs', () => {
  it('log a failed query with its statement and the database error, never its parameters (addresses, whole batches)', async () => {
    const err = await failedQuery();
    // What drizzle throws carries every parameter in its message.
    expect(String((err as Error).message)).toContain('bob@contoso.test');

    const { logger, lines } = captureLogs();
    logger.warn({ err }, 'could not report quota lease usage; will retry');
    logger.flush();
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line).not.toContain('contoso.test');
    expect(line.length).toBeLessThan(4000);
    const logged = JSON.parse(line) as { msg: string; err: { type: string; message: string; stack: string; query: string; params?: unknown; code?: string } };
    expect(logged.msg).toBe('could not report quota lease usage; will retry');
    expect(logged.err.type).toBe('DrizzleQueryError');
    // The serializer adds the cause's message after the statement.
    expect(logged.err.message).toMatch(/^Failed query: select \* from no_such_table where payload = \$1::jsonb and sender = \$2 \(2 parameters, not logged\): relation "no_such_table" does not exist$/);
    expect(logged.err.stack.split('\n')[0]).toContain('(2 parameters, not logged)');
    expect(logged.err.params).toBeUndefined();
    expect(logged.err.code).toBe('42P01');
    expect(logged.err.stack).toMatch(/caused by: .*relation "no_such_table" does not exist/);
  });

  it('log other errors as they are', () => {
    const { logger, lines } = captureLogs();
    logger.error({ err: new Error('the alert mailer refused the message') }, 'send failed');
    logger.flush();
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'send failed', err: { type: 'Error', message: 'the alert mailer refused the message' } });
  });
});
