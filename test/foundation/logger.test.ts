import { sql } from 'drizzle-orm';
import { locatedError } from 'graphql';
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

  it('log no parameter of a failed query that reached GraphQL or another error as its cause (a password hash stays out)', async () => {
    const secret = 'scrypt$16384$8$1$c2VjcmV0LXNhbHQ=$c2VjcmV0LWhhc2gtdGhhdC1tdXN0LW5vdC1sZWFr';
    const err = await database.rows(sql`insert into relay_credentials (tenant_id, username, password_hash) values (${'no-such-tenant'}, ${'scanner@contoso.test'}, ${secret})`).then(
      () => expect.unreachable('the insert should fail'),
      (e: unknown) => e as Error,
    );
    expect(err.message).toContain(secret);

    const { logger, lines, entries } = captureLogs();
    // As yoga's error log receives a resolver's failure: wrapped, with the message and stack copied.
    logger.error({ err: locatedError(err, undefined, ['createRelayCredential']) }, 'graphql request failed');
    logger.error({ err: new Error('could not create the relay credential', { cause: err }) }, 'failed');
    logger.error({ err: new AggregateError([err], 'several writes failed') }, 'failed');
    logger.error({ err: err.message }, 'failed');
    logger.flush();
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain('c2VjcmV0');
      expect(line).not.toContain('contoso.test');
      expect(line).toContain('insert into relay_credentials');
    }
    const [graphql, caused] = entries() as { err: { type: string; message: string; stack: string; code?: string; path?: unknown } }[];
    expect(graphql?.err).toMatchObject({ type: 'GraphQLError', code: '23503', path: ['createRelayCredential'] });
    expect(graphql?.err.message).toMatch(/^Failed query: insert into relay_credentials .* \(3 parameters, not logged\): insert or update on table "relay_credentials" violates foreign key constraint/);
    expect(caused?.err.message).toMatch(/^could not create the relay credential: Failed query: insert into relay_credentials .* \(3 parameters, not logged\): insert or update/);
  });

  it('log an error whose causes loop back on themselves', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    Object.defineProperty(first, 'cause', { value: second });
    const { logger, entries } = captureLogs();
    logger.error({ err: first }, 'looped');
    logger.flush();
    expect(entries()[0]).toMatchObject({ msg: 'looped', err: { message: expect.stringMatching(/^first: second/) } });
  });

  it('log other errors as they are', () => {
    const { logger, lines } = captureLogs();
    logger.error({ err: new Error('the alert mailer refused the message') }, 'send failed');
    logger.flush();
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'send failed', err: { type: 'Error', message: 'the alert mailer refused the message' } });
  });
});
