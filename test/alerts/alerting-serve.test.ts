import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSendguard } from '../../cli/serve.ts';
import { createTestDatabase, createTestTenant, type TestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { alertsOf, grantRole, limitRestriction, notificationsOf } from './alert-fixtures.ts';

let database: TestDatabase;
let sink: SmtpSink;

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.stop();
  await database.close();
});

describe('alerts in a running Sendguard (api role)', () => {
  it('a restriction reaches the admins by e-mail within the running process, and the alert catches up after a restart', async () => {
    const tenant = await createTestTenant(database);
    await grantRole(database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    const config = testConfig({ SENDGUARD_NOTIFY_SMTP_URL: sink.url, SENDGUARD_NOTIFY_FROM: 'alerts@sendguard.example' });

    const running = await startSendguard(config, { roles: ['api'], database });
    try {
      await running.services.restrictions.restrict({ ...limitRestriction(tenant.id, tenant.address('alice')), expiresAt: null, temporary: false });
      const [mail] = await sink.waitFor(1);
      expect(mail?.envelope.to).toEqual([tenant.address('gadmin')]);
      expect(mail?.parsed.subject).toBe(`[High] ${tenant.address('alice')} is restricted from sending email`);
    } finally {
      await running.stop();
    }

    // Committed while no API process ran: picked up when one starts again.
    const offline = await startSendguard(config, { roles: [], database });
    await offline.services.restrictions.restrict({ ...limitRestriction(tenant.id, tenant.address('bob')), expiresAt: null, temporary: false });
    await offline.stop();
    const again = await startSendguard(config, { roles: ['api'], database });
    try {
      await sink.waitFor(2);
      expect((await alertsOf(database, tenant.id)).map((a) => a.entityKey)).toEqual([tenant.address('alice'), tenant.address('bob')]);
      // The worker marks a notification Sent just after the server accepted it.
      await expect.poll(async () => (await notificationsOf(database, tenant.id)).map((n) => n.status), { timeout: 10_000 }).toEqual(['Sent', 'Sent']);
    } finally {
      await again.stop();
    }
  });
});
