import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedRecipients } from '../../db/schema/sending-counters.ts';
import { systemClock } from '../../domain/clock.ts';
import { createPolicyServer, type PolicyServer } from '../../mail/policy-server/policy-server.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { admin, testServices } from '../helpers/services.ts';

// Postfix hands the policy server the envelope addresses as the client wrote them, and then
// delivers them in its own canonical form: each spelling of one address must be one sender.

const refused = '550 5.1.8 Access denied, bad outbound sender';

let database: TestDatabase;
let services: ReturnType<typeof testServices>;
let policyServer: PolicyServer;
let policyPort: number;
const clients: PolicyClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database, systemClock, { SENDGUARD_EVENT_POLL_MS: '100' });
  await services.events.start();
  policyServer = createPolicyServer({ enforcement: services.enforcement });
  policyPort = (await policyServer.listen(0, '127.0.0.1')).port;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await policyServer.close();
  await services.events.stop();
  await database.close();
});

async function tenantWith(options: { domains?: string[] } = {}): Promise<TestTenant> {
  const tenant = await createTestTenant(database, options);
  await setDefaultPolicy(database, tenant.id, { externalPerHour: 100, internalPerHour: 100, action: 'BlockUser' });
  services.enforcement.invalidate();
  return tenant;
}

async function ask(attrs: { sender: string; recipient: string; sasl_username?: string }): Promise<string> {
  const client = await PolicyClient.connect(policyPort);
  clients.push(client);
  return client.ask(rcptRequest(attrs));
}

async function restrict(tenant: TestTenant, address: string): Promise<void> {
  await services.restrictions.restrict({ tenantId: tenant.id, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: admin });
  await services.events.flush();
}

async function countedFor(tenant: TestTenant) {
  return database.db
    .select({ sender: countedRecipients.sender, recipient: countedRecipients.recipient, internal: countedRecipients.internal })
    .from(countedRecipients)
    .where(eq(countedRecipients.tenantId, tenant.id))
    .orderBy(asc(countedRecipients.createdAt), asc(countedRecipients.recipient));
}

describe('a domain written with the root\'s trailing dot', () => {
  it('is the same sender: counted, and refused once restricted', async () => {
    const tenant = await tenantWith();
    const s1 = tenant.address('s1');
    expect(await ask({ sender: `${s1}.`, recipient: 'x@fabrikam.test' })).toBe('DUNNO');
    expect(await ask({ sender: `S1@${tenant.domain.toUpperCase()}.`, recipient: 'y@fabrikam.test' })).toBe('DUNNO');
    expect((await services.enforcement.getSenderActivity(tenant.id, s1)).counts.externalLastHour).toBe(2);
    await restrict(tenant, s1);
    expect(await ask({ sender: `${s1}.`, recipient: 'z@fabrikam.test' })).toBe(refused);
    expect(await ask({ sender: s1, recipient: 'z@fabrikam.test' })).toBe(refused);
  });

  it('is an internal recipient, counted under its plain spelling', async () => {
    const tenant = await tenantWith();
    const ann = tenant.address('ann');
    expect(await ask({ sender: ann, recipient: `${tenant.address('z')}.` })).toBe('DUNNO');
    expect(await ask({ sender: ann, recipient: 'ext@fabrikam.test.' })).toBe('DUNNO');
    expect((await services.enforcement.getSenderActivity(tenant.id, ann)).counts).toMatchObject({ internalLastHour: 1, externalLastHour: 1 });
    expect(await countedFor(tenant)).toEqual([
      { sender: ann, recipient: tenant.address('z'), internal: true },
      { sender: ann, recipient: 'ext@fabrikam.test', internal: false },
    ]);
  });

  it('is the same SASL login, and the same user to restrict: a restricted login cannot send by adding the dot', async () => {
    const tenant = await tenantWith();
    const a = tenant.address('a');
    await restrict(tenant, `${a}.`);
    expect((await services.restrictionQueries.latest(tenant.id, 'user', a))?.entityKey).toBe(a);
    expect(await ask({ sender: '', recipient: 'x@fabrikam.test', sasl_username: `${a}.` })).toBe(refused);
    expect(await ask({ sender: 'spam@nowhere.test', recipient: 'x@fabrikam.test', sasl_username: `A@${tenant.domain}.` })).toBe(refused);
  });
});
