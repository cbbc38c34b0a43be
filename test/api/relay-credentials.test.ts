import { domainToASCII } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRelayCredential } from '../../db/repos/relay-credentials.ts';
import { systemClock } from '../../domain/clock.ts';
import { hashRelayPassword } from '../../domain/relay/relay-credentials.ts';
import { createSmarthostForwarder } from '../../mail/smtp-relay/smarthost.ts';
import { createSmtpRelay, type SmtpRelay } from '../../mail/smtp-relay/smtp-relay.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { SmtpDialog } from '../helpers/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

let api: TestApi;
let sink: SmtpSink;
let relay: SmtpRelay;
let forwarder: ReturnType<typeof createSmarthostForwarder>;
let relayPort: number;

beforeAll(async () => {
  api = await startTestApi();
  sink = await startSmtpSink();
  forwarder = createSmarthostForwarder(sink.url, { hostname: 'relay.sendguard.test' });
  // No trusted networks: every client must authenticate.
  relay = createSmtpRelay({ enforcement: api.services.enforcement, credentials: api.services.relayCredentials, forwarder, networks: [], hostname: 'relay.sendguard.test', clock: systemClock });
  relayPort = (await relay.listen(0, '127.0.0.1')).port;
});
afterAll(async () => {
  await relay.close();
  forwarder.close();
  await sink.stop();
  await api.stop();
});

type Data = Record<string, Record<string, unknown> | Record<string, unknown>[]>;

async function as(tenant: TestTenant, roles: string[]) {
  const token = await api.token({ tenantId: tenant.id, roles, principalId: 'oid-adele', name: 'Adele Vance' });
  return (query: string, variables?: Record<string, unknown>) => api.gql<Data>(token, query, variables);
}

const RESULT = '__typename ... on Error { message } ... on ValidationError { field }';
const CREATE = `mutation($input: CreateRelayCredentialInput!) { createRelayCredential(input: $input) { ${RESULT} ... on RelayUsernameTakenError { username } ... on CreateRelayCredentialSuccess { relayCredential { id username createdAt } } } }`;
const RESET = `mutation($input: ResetRelayCredentialPasswordInput!) { resetRelayCredentialPassword(input: $input) { ${RESULT} ... on ResetRelayCredentialPasswordSuccess { relayCredential { username } } } }`;
const DELETE = `mutation($input: DeleteRelayCredentialInput!) { deleteRelayCredential(input: $input) { ${RESULT} ... on DeleteRelayCredentialSuccess { relayCredential { username } } } }`;
const LIST = '{ relayCredentials { username createdAt } }';

/** The relay's last reply to `AUTH PLAIN` with these credentials. */
async function smtpAuth(username: string, password: string): Promise<string> {
  const { dialog } = await SmtpDialog.open(relayPort);
  try {
    await dialog.send('EHLO client.test');
    return await dialog.send(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`);
  } finally {
    dialog.close();
  }
}

describe('relay credentials through GraphQL', () => {
  it('creates a credential that authenticates at the relay; a reset retires the old password; a delete retires the credential', async () => {
    const tenant = await createTestTenant(api.database);
    const gql = await as(tenant, ['Security Administrator']);
    const username = tenant.address('scanner');
    const first = 'first password, long enough';
    const second = 'second password, long enough';

    const created = (await gql(CREATE, { input: { username: username.toUpperCase(), password: first } })).body.data?.createRelayCredential;
    expect(created).toEqual({ __typename: 'CreateRelayCredentialSuccess', relayCredential: { id: expect.any(String), username, createdAt: expect.stringMatching(/Z$/) } });
    expect((await gql(LIST)).body.data?.relayCredentials).toEqual([{ username, createdAt: expect.stringMatching(/Z$/) }]);
    expect(await smtpAuth(username, first)).toMatch(/^235 /);
    expect(await smtpAuth(username, 'not the password at all')).toMatch(/^535 5\.7\.8/);

    expect((await gql(CREATE, { input: { username, password: 'yet another password' } })).body.data?.createRelayCredential).toEqual({
      __typename: 'RelayUsernameTakenError',
      message: `the relay user name ${username} is taken`,
      username,
    });
    expect((await gql(CREATE, { input: { username: tenant.address('copier'), password: 'short' } })).body.data?.createRelayCredential).toEqual({
      __typename: 'ValidationError',
      message: 'a relay password has at least 12 characters',
      field: 'password',
    });
    for (const bad of ['two words', 'bell\u0007@example.com', 'del\u007f', 'c1\u0085x', 'x'.repeat(257)]) {
      expect((await gql(CREATE, { input: { username: bad, password: first } })).body.data?.createRelayCredential).toEqual({
        __typename: 'ValidationError',
        field: 'username',
        message: 'a user name is 1 to 256 characters without spaces, colons or control characters',
      });
    }

    expect((await gql(RESET, { input: { username, password: second } })).body.data?.resetRelayCredentialPassword).toEqual({ __typename: 'ResetRelayCredentialPasswordSuccess', relayCredential: { username } });
    expect(await smtpAuth(username, first)).toMatch(/^535 /);
    expect(await smtpAuth(username, second)).toMatch(/^235 /);
    expect((await gql(RESET, { input: { username: tenant.address('nobody'), password: second } })).body.data?.resetRelayCredentialPassword).toEqual({
      __typename: 'NotFoundError',
      message: `relay credential ${tenant.address('nobody')} was not found`,
    });

    expect((await gql(DELETE, { input: { username } })).body.data?.deleteRelayCredential).toEqual({ __typename: 'DeleteRelayCredentialSuccess', relayCredential: { username } });
    expect(await smtpAuth(username, second)).toMatch(/^535 /);
    expect((await gql(LIST)).body.data?.relayCredentials).toEqual([]);
    expect((await gql(DELETE, { input: { username } })).body.data?.deleteRelayCredential).toMatchObject({ __typename: 'NotFoundError' });
  });

  it('lets a read-only admin list credentials but not create, reset or delete them', async () => {
    const tenant = await createTestTenant(api.database);
    const admin = await as(tenant, ['Organization Management']);
    const reader = await as(tenant, ['Global Reader']);
    const username = tenant.address('printer');
    const password = 'printer password 1';
    await admin(CREATE, { input: { username, password } });

    expect((await reader(LIST)).body.data?.relayCredentials).toEqual([{ username, createdAt: expect.any(String) }]);
    for (const [query, input] of [
      [CREATE, { username: tenant.address('other'), password }],
      [RESET, { username, password: 'taken over by reader' }],
      [DELETE, { username }],
    ] as const) {
      const refused = await reader(query, { input });
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
      expect(refused.body.data).toBeNull();
    }
    expect((await admin(LIST)).body.data?.relayCredentials).toEqual([{ username, createdAt: expect.any(String) }]);
    expect(await smtpAuth(username, password)).toMatch(/^235 /);
  });

  it("refuses a user name in another organisation's domain, and a domain in which another organisation has relay users", async () => {
    const tenant = await createTestTenant(api.database);
    const other = await createTestTenant(api.database);
    const owner = await as(tenant, ['Global Administrator']);
    const squatter = await as(other, ['Global Administrator']);
    const password = 'a long enough password';
    for (const username of [tenant.address('ceo'), `ceo@Mail.${tenant.domain}`]) {
      expect((await squatter(CREATE, { input: { username, password } })).body.data?.createRelayCredential).toEqual({
        __typename: 'ValidationError',
        field: 'username',
        message: `${username.toLowerCase()} is an address of another organisation's domain`,
      });
    }
    // Nor by another spelling of it, which is the same user name.
    expect((await squatter(CREATE, { input: { username: `CEO@${tenant.domain}.`, password } })).body.data?.createRelayCredential).toEqual({
      __typename: 'ValidationError',
      field: 'username',
      message: `${tenant.address('ceo')} is an address of another organisation's domain`,
    });
    expect((await squatter(LIST)).body.data?.relayCredentials).toEqual([]);
    // The organisation's own mailbox is still its to create.
    expect((await owner(CREATE, { input: { username: tenant.address('ceo'), password } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'CreateRelayCredentialSuccess' });
    expect(await smtpAuth(tenant.address('ceo'), password)).toMatch(/^235 /);

    // A domain no organisation has accepted yet: a relay user there keeps it from being taken by another.
    const unclaimed = `${other.id}-apps.example`;
    expect((await squatter(CREATE, { input: { username: `printer@eu.${unclaimed}`, password } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'CreateRelayCredentialSuccess' });
    const addDomain = (domain: string) => owner(`mutation($d: String!) { addAcceptedDomain(input: { domain: $d }) { __typename ... on Error { message } } }`, { d: domain });
    for (const domain of [unclaimed, `eu.${unclaimed}`]) {
      expect((await addDomain(domain)).body.data?.addAcceptedDomain).toEqual({ __typename: 'ValidationError', message: `${domain} is not available: another organisation has a relay user in it` });
    }
    expect((await addDomain(`us.${unclaimed}`)).body.data?.addAcceptedDomain).toEqual({ __typename: 'AddAcceptedDomainSuccess' });
  });

  it('keeps a user name in an internationalised domain as addresses are kept; either spelling logs in, resets and deletes it', async () => {
    const tenant = await createTestTenant(api.database);
    const gql = await as(tenant, ['Security Administrator']);
    const password = 'a long enough password';
    const written = `scan@${tenant.id}-bücher.example.`;
    const kept = `scan@${domainToASCII(`${tenant.id}-bücher.example`)}`;
    expect(kept).toMatch(/@xn--/);
    expect((await gql(CREATE, { input: { username: written, password } })).body.data?.createRelayCredential).toMatchObject({ relayCredential: { username: kept } });
    expect(await smtpAuth(written, password)).toMatch(/^235 /);
    expect(await smtpAuth(kept, password)).toMatch(/^235 /);
    expect((await gql(CREATE, { input: { username: kept, password } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'RelayUsernameTakenError', username: kept });
    expect((await gql(RESET, { input: { username: written, password: `${password}!` } })).body.data?.resetRelayCredentialPassword).toEqual({ __typename: 'ResetRelayCredentialPasswordSuccess', relayCredential: { username: kept } });
    expect(await smtpAuth(kept, `${password}!`)).toMatch(/^235 /);
    expect((await gql(DELETE, { input: { username: written } })).body.data?.deleteRelayCredential).toEqual({ __typename: 'DeleteRelayCredentialSuccess', relayCredential: { username: kept } });

    // One stored as written before names were kept that way is still found by that spelling.
    const legacy = `old@${tenant.id}-bücher.example`;
    await insertRelayCredential(api.database.db, { tenantId: tenant.id, username: legacy, passwordHash: await hashRelayPassword(password), createdAt: new Date() });
    expect(await smtpAuth(legacy, password)).toMatch(/^235 /);
    expect((await gql(DELETE, { input: { username: legacy } })).body.data?.deleteRelayCredential).toEqual({ __typename: 'DeleteRelayCredentialSuccess', relayCredential: { username: legacy } });
    expect((await gql(LIST)).body.data?.relayCredentials).toEqual([]);
  });

  it("keeps each tenant's credentials to itself", async () => {
    const tenant = await createTestTenant(api.database);
    const other = await createTestTenant(api.database);
    const owner = await as(tenant, ['Security Administrator']);
    const stranger = await as(other, ['Global Administrator']);
    const username = tenant.address('fax');
    const password = 'fax machine password';
    const created = (await owner(CREATE, { input: { username, password } })).body.data?.createRelayCredential as { relayCredential: { id: string } };

    expect((await stranger(LIST)).body.data?.relayCredentials).toEqual([]);
    expect((await stranger(`query($id: ID!) { node(id: $id) { id } }`, { id: created.relayCredential.id })).body.data).toEqual({ node: null });
    expect((await stranger(DELETE, { input: { username } })).body.data?.deleteRelayCredential).toMatchObject({ __typename: 'NotFoundError' });
    expect((await stranger(RESET, { input: { username, password: 'hijacked password!' } })).body.data?.resetRelayCredentialPassword).toMatchObject({ __typename: 'NotFoundError' });
    // User names are unique across tenants, since a client authenticates before its tenant is known.
    expect((await stranger(CREATE, { input: { username: 'shared-scanner', password } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'CreateRelayCredentialSuccess' });
    expect((await owner(CREATE, { input: { username: 'Shared-Scanner', password } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'RelayUsernameTakenError' });
    expect((await stranger(CREATE, { input: { username, password: 'hijacked password!' } })).body.data?.createRelayCredential).toMatchObject({ __typename: 'ValidationError', field: 'username' });

    expect((await owner(LIST)).body.data?.relayCredentials).toEqual([{ username, createdAt: expect.any(String) }]);
    expect(await smtpAuth(username, password)).toMatch(/^235 /);
    expect(await smtpAuth(username, 'hijacked password!')).toMatch(/^535 /);
  });

  it('audits every change with the actor, never with the password', async () => {
    const tenant = await createTestTenant(api.database);
    const gql = await as(tenant, ['Security Administrator']);
    const username = tenant.address('copier');
    const passwords = ['copier password one', 'copier password two'];
    await gql(CREATE, { input: { username, password: passwords[0] } });
    await gql(RESET, { input: { username, password: passwords[1] } });
    await gql(DELETE, { input: { username } });

    const audit = await gql(`query($target: String!) { auditLog(first: 10, filter: { target: $target }) { edges { node { action actorId actorName source targetKind target before after details } } } }`, { target: username });
    const records = ((audit.body.data?.auditLog as { edges: { node: Record<string, unknown> }[] }).edges ?? []).map((e) => e.node).reverse();
    const shown = { username, createdAt: expect.any(String) };
    expect(records).toEqual([
      { action: 'New-RelayCredential', actorId: 'oid-adele', actorName: 'Adele Vance', source: 'graphql', targetKind: 'relayCredential', target: username, before: null, after: shown, details: null },
      { action: 'Set-RelayCredential', actorId: 'oid-adele', actorName: 'Adele Vance', source: 'graphql', targetKind: 'relayCredential', target: username, before: shown, after: shown, details: { changed: ['password'] } },
      { action: 'Remove-RelayCredential', actorId: 'oid-adele', actorName: 'Adele Vance', source: 'graphql', targetKind: 'relayCredential', target: username, before: shown, after: null, details: null },
    ]);
    const stored = JSON.stringify(await api.services.auditQueries.search(tenant.id, { target: username }, { first: 10 }));
    for (const secret of [...passwords, 'scrypt$']) expect(stored).not.toContain(secret);
  });
});
