import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEventId } from '../../db/repos/events.ts';
import { manualClock } from '../helpers/clock.ts';
import { createTestTenant, type TestTenant } from '../helpers/db.ts';
import { errorCodes, startTestApi, type TestApi } from '../helpers/graphql.ts';
import { addConversation, appendLimitEvent, grantRole, limitRestriction } from './alert-fixtures.ts';

const clock = manualClock('2026-11-26T10:00:00Z');
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock });
});
afterAll(async () => api.stop());

const POLICIES = `{ alertPolicies { id name kind severity isDefault enabled active inactiveReason emailEnabled recipients dailyNotificationLimit thresholdPercent } }`;

const UPDATE_POLICY = `mutation($input: UpdateAlertPolicyInput!) {
  updateAlertPolicy(input: $input) {
    __typename
    ... on Error { message }
    ... on ValidationError { field }
    ... on UpdateAlertPolicySuccess { alertPolicy { name enabled emailEnabled recipients dailyNotificationLimit active inactiveReason } }
  }
}`;

const ALERTS = `query($filter: AlertFilter, $first: Int, $after: String) {
  alerts(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id kind severity status title entityKey hitCount firstSeenAt exceededLimit limitValue internalRecipientCount externalRecipientCount
      policy { name } restrictionId restrictedUser { id senderAddress status } notifications { channel recipient status }
    } }
  }
}`;

const UPDATE_STATUS = `mutation($input: UpdateAlertStatusInput!) {
  updateAlertStatus(input: $input) {
    __typename
    ... on Error { message }
    ... on UpdateAlertStatusSuccess { alert { status statusChangedBy } }
    ... on AlertStatusTransitionError { from to }
  }
}`;

interface AlertNode {
  id: string;
  status: string;
  entityKey: string;
  [key: string]: unknown;
}

async function tokens(tenant: TestTenant) {
  return {
    admin: await api.token({ tenantId: tenant.id, principalId: 'oid-sec-1', name: 'Sam Sec', roles: ['Security Administrator'] }),
    reader: await api.token({ tenantId: tenant.id, principalId: 'oid-read-1', name: 'Rita Reader', roles: ['Global Reader'] }),
  };
}

async function listAlerts(token: string, variables: Record<string, unknown> = {}) {
  const res = await api.gql<{ alerts: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: AlertNode }[] } }>(token, ALERTS, variables);
  expect(res.body.errors).toBeUndefined();
  const alerts = res.body.data?.alerts;
  if (!alerts) throw new Error('no alerts field');
  return alerts;
}

/** The API process raises alerts from the event bus, in the background. */
async function eventually(token: string, count: number) {
  await expect.poll(async () => (await listAlerts(token)).totalCount, { timeout: 10_000 }).toBe(count);
  return (await listAlerts(token)).edges.map((e) => e.node);
}

describe('alert policies over GraphQL', () => {
  it('lists the default policies, and a reader may read but not change them', async () => {
    const tenant = await createTestTenant(api.database);
    const { reader } = await tokens(tenant);
    const res = await api.gql<{ alertPolicies: Record<string, unknown>[] }>(reader, POLICIES);
    expect(res.body.data?.alertPolicies.map(({ id: _id, ...p }) => p)).toEqual([
      { name: 'Email sending limit exceeded', kind: 'SENDING_LIMIT_EXCEEDED', severity: 'MEDIUM', isDefault: true, enabled: true, active: true, inactiveReason: null, emailEnabled: true, recipients: ['TenantAdmins'], dailyNotificationLimit: null, thresholdPercent: null },
      { name: 'Sending limit nearly reached', kind: 'SENDING_LIMIT_NEARLY_REACHED', severity: 'MEDIUM', isDefault: true, enabled: true, active: true, inactiveReason: null, emailEnabled: true, recipients: ['TenantAdmins'], dailyNotificationLimit: null, thresholdPercent: 80 },
      { name: 'User restricted from sending email', kind: 'USER_RESTRICTED', severity: 'HIGH', isDefault: true, enabled: true, active: true, inactiveReason: null, emailEnabled: true, recipients: ['TenantAdmins'], dailyNotificationLimit: null, thresholdPercent: null },
    ]);
    const denied = await api.gql(reader, UPDATE_POLICY, { input: { name: 'Email sending limit exceeded', enabled: false } });
    expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    expect((await api.gql(null, POLICIES)).status).toBe(401);
  });

  it('an admin changes status, e-mail, recipients and the daily limit; bad input and unknown policies are typed errors', async () => {
    const tenant = await createTestTenant(api.database);
    const { admin } = await tokens(tenant);
    const update = async (input: Record<string, unknown>) => (await api.gql<{ updateAlertPolicy: Record<string, unknown> }>(admin, UPDATE_POLICY, { input })).body.data?.updateAlertPolicy;
    expect(await update({ name: 'User restricted from sending email', recipients: ['TenantAdmins', 'soc@example.org'], dailyNotificationLimit: 10, emailEnabled: true })).toEqual({
      __typename: 'UpdateAlertPolicySuccess',
      alertPolicy: { name: 'User restricted from sending email', enabled: true, emailEnabled: true, recipients: ['TenantAdmins', 'soc@example.org'], dailyNotificationLimit: 10, active: true, inactiveReason: null },
    });
    expect(await update({ name: 'User restricted from sending email', dailyNotificationLimit: null, enabled: false })).toMatchObject({
      alertPolicy: { dailyNotificationLimit: null, enabled: false, active: false, inactiveReason: 'POLICY_DISABLED' },
    });
    expect(await update({ name: 'User restricted from sending email', dailyNotificationLimit: 3 })).toEqual({
      __typename: 'ValidationError',
      field: 'dailyNotificationLimit',
      message: 'dailyNotificationLimit must be null (no limit) or one of 1, 5, 10, 25, 50, 100, 150, 200',
    });
    expect(await update({ name: 'User restricted from sending email', recipients: ['nobody'] })).toMatchObject({ __typename: 'ValidationError', field: 'recipients' });
    // Null for a setting that has no "none" would read as left out while the answer says success.
    for (const field of ['enabled', 'emailEnabled', 'recipients']) {
      expect(await update({ name: 'User restricted from sending email', [field]: null })).toEqual({
        __typename: 'ValidationError', field, message: `${field} cannot be null: leave it out to keep it as it is`,
      });
    }
    expect(await update({ name: 'No such policy', enabled: true })).toMatchObject({ __typename: 'NotFoundError' });
    // Named in any case, as Exchange matches an Identity.
    expect(await update({ name: 'user RESTRICTED from sending email', enabled: true })).toMatchObject({ alertPolicy: { name: 'User restricted from sending email', enabled: true } });
    const audit = await api.services.auditQueries.search(tenant.id, { action: 'UpdateAlertPolicy' }, {});
    expect(audit.records.map((r) => [r.actorId, r.source, r.after])).toEqual([
      ['oid-sec-1', 'graphql', { enabled: true }],
      ['oid-sec-1', 'graphql', { enabled: false, dailyNotificationLimit: null }],
      ['oid-sec-1', 'graphql', { recipients: ['TenantAdmins', 'soc@example.org'], dailyNotificationLimit: 10 }],
    ]);
  });

  it('turning the audit log off is audited, makes every policy inactive and stops alerts until it is on again', async () => {
    const tenant = await createTestTenant(api.database);
    const { admin, reader } = await tokens(tenant);
    const setAuditLog = (enabled: boolean) => api.gql(admin, `mutation($enabled: Boolean!) { setAuditLogEnabled(input: { enabled: $enabled }) { auditLogEnabled } }`, { enabled });
    expect((await setAuditLog(false)).body.data).toEqual({ setAuditLogEnabled: { auditLogEnabled: false } });
    const res = await api.gql<{ alertPolicies: { active: boolean; inactiveReason: string }[] }>(reader, POLICIES);
    expect(res.body.data?.alertPolicies.map((p) => [p.active, p.inactiveReason])).toEqual([
      [false, 'AUDIT_LOG_DISABLED'],
      [false, 'AUDIT_LOG_DISABLED'],
      [false, 'AUDIT_LOG_DISABLED'],
    ]);
    await api.services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('quiet')));
    await api.services.events.flush();
    expect((await listAlerts(reader)).totalCount).toBe(0);
    const switched = await api.services.auditQueries.search(tenant.id, { action: 'Set-AdminAuditLogConfig' }, {});
    expect(switched.records.map((r) => [r.actorId, (r.after as { auditLogEnabled: boolean }).auditLogEnabled])).toEqual([['oid-sec-1', false]]);

    await setAuditLog(true);
    await api.services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('loud')));
    expect((await eventually(reader, 1)).map((a) => a.entityKey)).toEqual([tenant.address('loud')]);
  });
});

describe('alerts over GraphQL', () => {
  it('lists alerts with their restriction and notifications, filters them, and moves their status forward', async () => {
    const tenant = await createTestTenant(api.database);
    const { admin, reader } = await tokens(tenant);
    await grantRole(api.database, tenant.id, tenant.address('gadmin'), 'Global Administrator');
    await addConversation(api.database, tenant.id, '19:soc@thread.tacv2', true);
    await api.services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('alice')));
    await appendLimitEvent(api.database, tenant.id, 'SendingLimitNearlyReached', { sender: tenant.address('bob') }, new Date('2026-11-26T09:00:00Z'));
    const [restricted, warning] = await eventually(reader, 2);
    expect(restricted).toMatchObject({
      kind: 'USER_RESTRICTED',
      severity: 'HIGH',
      status: 'NEW',
      entityKey: tenant.address('alice'),
      hitCount: 1,
      firstSeenAt: '2026-11-26T10:00:00.000Z',
      exceededLimit: 'RecipientLimitExternalPerHour',
      limitValue: 100,
      internalRecipientCount: 12,
      externalRecipientCount: 100,
      policy: { name: 'User restricted from sending email' },
      restrictedUser: { senderAddress: tenant.address('alice'), status: 'RESTRICTED' },
    });
    expect(restricted?.notifications).toEqual(expect.arrayContaining([
      { channel: 'EMAIL', recipient: tenant.address('gadmin'), status: 'PENDING' },
      { channel: 'TEAMS', recipient: '19:soc@thread.tacv2', status: 'PENDING' },
    ]));
    expect(warning).toMatchObject({ kind: 'SENDING_LIMIT_NEARLY_REACHED', restrictedUser: null, restrictionId: null, entityKey: tenant.address('bob') });
    // The alert names its restriction by the id the rest of the API takes: node, unblockUser.
    expect(restricted?.restrictionId).toBe((restricted?.restrictedUser as { id: string }).id);
    const viaNode = await api.gql(reader, 'query($id: ID!) { node(id: $id) { ... on RestrictedUser { senderAddress } } }', { id: restricted?.restrictionId });
    expect(viaNode.body.data).toEqual({ node: { senderAddress: tenant.address('alice') } });
    expect((await listAlerts(reader, { filter: { severity: ['HIGH'] } })).edges.map((e) => e.node.entityKey)).toEqual([tenant.address('alice')]);
    expect((await listAlerts(reader, { filter: { to: '2026-11-26T09:30:00Z' } })).edges.map((e) => e.node.entityKey)).toEqual([tenant.address('bob')]);
    // Any spelling of the address finds its alerts, as unblockUser takes it.
    expect((await listAlerts(reader, { filter: { entityKey: ` ${tenant.address('alice').toUpperCase()}. ` } })).edges.map((e) => e.node.entityKey)).toEqual([tenant.address('alice')]);
    // One that can be no sender or connector is the caller's mistake, said as such, not an empty list.
    for (const entityKey of ['two words', `bell\u0007@${tenant.domain}`]) {
      const refused = await api.gql(reader, ALERTS, { filter: { entityKey } });
      expect(refused.body.errors).toEqual([expect.objectContaining({ message: 'entityKey must be 1 to 320 characters without spaces or control characters', extensions: { code: 'BAD_USER_INPUT', field: 'entityKey' } })]);
    }
    const page = await listAlerts(reader, { first: 1 });
    expect([page.edges.length, page.pageInfo.hasNextPage]).toEqual([1, true]);
    expect((await listAlerts(reader, { first: 1, after: page.pageInfo.endCursor })).edges.map((e) => e.node.entityKey)).toEqual([tenant.address('bob')]);
    // A cursor it never issued, even one shaped like its own, is the caller's mistake, not a fault.
    const id = '5a9a1f85-ac9c-44aa-b900-584c08065b9c';
    for (const position of [['not a time', id], ['-200000-01-01T00:00:00.000Z', id], ['2026-11-26T10:00:00.000Z', '-'.repeat(36)]]) {
      const forged = await api.gql(reader, ALERTS, { first: 1, after: Buffer.from(JSON.stringify(position)).toString('base64url') });
      expect(forged.body.errors?.[0]).toMatchObject({ message: 'the cursor is not one this API issued', extensions: { code: 'BAD_USER_INPUT' } });
    }

    const move = async (token: string, status: string, id = restricted?.id) => api.gql<{ updateAlertStatus: Record<string, unknown> }>(token, UPDATE_STATUS, { input: { id, status } });
    expect(errorCodes(await move(reader, 'IN_PROGRESS'))).toEqual(['FORBIDDEN']);
    expect((await move(admin, 'IN_PROGRESS')).body.data?.updateAlertStatus).toEqual({ __typename: 'UpdateAlertStatusSuccess', alert: { status: 'IN_PROGRESS', statusChangedBy: 'Sam Sec' } });
    expect((await move(admin, 'RESOLVED')).body.data?.updateAlertStatus).toMatchObject({ alert: { status: 'RESOLVED' } });
    expect((await move(admin, 'NEW')).body.data?.updateAlertStatus).toMatchObject({ __typename: 'AlertStatusTransitionError', from: 'RESOLVED', to: 'NEW' });
    expect((await listAlerts(reader, { filter: { status: ['NEW', 'IN_PROGRESS'] } })).edges.map((e) => e.node.entityKey)).toEqual([tenant.address('bob')]);

    const other = await createTestTenant(api.database);
    const stranger = (await tokens(other)).admin;
    // Named by the id the caller gave, not by the row id inside it.
    expect((await move(stranger, 'RESOLVED', warning?.id)).body.data?.updateAlertStatus).toEqual({ __typename: 'NotFoundError', message: `Alert ${warning?.id} was not found` });
    expect((await listAlerts(stranger)).totalCount).toBe(0);
  });

  it("tells of the restriction as of its latest extension: the reason, the admin's details, how long it lasts, and who extended it when", async () => {
    const tenant = await createTestTenant(api.database);
    const { admin, reader } = await tokens(tenant);
    const sender = tenant.address('carol');
    clock.set('2026-11-26T10:00:00Z');
    await api.services.restrictions.restrict(limitRestriction(tenant.id, sender));
    const RESTRICTION = '{ alerts { edges { node { reasonCode restrictionDetails temporary expiresAt extendedAt extendedBy hitCount } } } }';
    const restriction = async () => (await api.gql<{ alerts: { edges: { node: Record<string, unknown> }[] } }>(reader, RESTRICTION)).body.data?.alerts.edges.map((e) => e.node);
    await eventually(reader, 1);
    expect(await restriction()).toEqual([
      { reasonCode: 'SENDING_LIMIT_EXCEEDED', restrictionDetails: null, temporary: true, expiresAt: '2026-11-27T00:00:00.000Z', extendedAt: null, extendedBy: null, hitCount: 1 },
    ]);
    clock.set('2026-11-26T11:30:00Z');
    const extend = await api.gql(admin, 'mutation($input: RestrictUserInput!) { restrictUser(input: $input) { __typename } }', {
      input: { senderAddress: sender, reason: 'SUSPECTED_COMPROMISE', details: 'Sign-ins from two countries.' },
    });
    expect(extend.body.data).toEqual({ restrictUser: { __typename: 'RestrictUserSuccess' } });
    await expect.poll(restriction, { timeout: 10_000 }).toEqual([
      // A limit restriction keeps its reason when an admin extends it (so releasing it spares the sender the day's counts).
      { reasonCode: 'SENDING_LIMIT_EXCEEDED', restrictionDetails: 'Sign-ins from two countries.', temporary: false, expiresAt: null, extendedAt: '2026-11-26T11:30:00.000Z', extendedBy: 'Sam Sec', hitCount: 1 },
    ]);
  });
});

const ALERT_PAGE = `query($filter: AlertFilter, $first: Int, $after: String, $last: Int, $before: String) {
  alerts(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { entityKey } }
  }
}`;

describe('paging alerts', () => {
  it('says whether a page lies on the cursor\'s other side by the alerts there now, both ways', async () => {
    const tenant = await createTestTenant(api.database);
    const { admin, reader } = await tokens(tenant);
    await api.services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('alice')));
    await appendLimitEvent(api.database, tenant.id, 'SendingLimitNearlyReached', { sender: tenant.address('bob') }, new Date('2026-11-26T09:00:00Z'));
    const [alice, bob] = await eventually(reader, 2);
    type Page = { pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }; edges: { node: { entityKey: string } }[] };
    const page = async (variables: Record<string, unknown>) => {
      const res = await api.gql<{ alerts: Page }>(reader, ALERT_PAGE, variables);
      expect(res.body.errors).toBeUndefined();
      const alerts = res.body.data?.alerts;
      if (!alerts) throw new Error('no alerts field');
      return { keys: alerts.edges.map((e) => e.node.entityKey), next: alerts.pageInfo.hasNextPage, previous: alerts.pageInfo.hasPreviousPage, info: alerts.pageInfo };
    };
    const open = { status: ['NEW'] };
    const newest = await page({ filter: open, first: 1 });
    const oldest = await page({ filter: open, last: 1 });
    expect([newest.keys, oldest.keys]).toEqual([[tenant.address('alice')], [tenant.address('bob')]]);
    // While both alerts are there, each has the other on its far side.
    expect(await page({ filter: open, first: 1, after: newest.info.endCursor })).toMatchObject({ keys: [tenant.address('bob')], next: false, previous: true });
    expect(await page({ filter: open, last: 1, before: oldest.info.startCursor })).toMatchObject({ keys: [tenant.address('alice')], next: true, previous: false });

    const resolve = async (id: string | undefined) => {
      for (const status of ['IN_PROGRESS', 'RESOLVED']) await api.gql(admin, UPDATE_STATUS, { input: { id, status } });
    };
    // Alice's alert leaves the open ones: nothing open is before her cursor any more.
    await resolve(alice?.id);
    expect(await page({ filter: open, first: 1, after: newest.info.endCursor })).toMatchObject({ keys: [tenant.address('bob')], next: false, previous: false });
    // Bob's alert is still open, at the cursor itself: going back from it, there is a page to go forward to.
    expect(await page({ filter: open, last: 1, before: oldest.info.startCursor })).toMatchObject({ keys: [], next: true, previous: false });
    await resolve(bob?.id);
    expect(await page({ filter: open, last: 1, before: oldest.info.startCursor })).toMatchObject({ keys: [], next: false, previous: false });
    expect(await page({ filter: open, first: 1, after: newest.info.endCursor })).toMatchObject({ keys: [], next: false, previous: false });
  });
});

/** Reads a subscription over SSE until `count` results arrived. */
async function subscribe(token: string, query: string, variables: Record<string, unknown>, count: number): Promise<Record<string, unknown>[]> {
  const controller = new AbortController();
  const res = await fetch(api.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const results: Record<string, unknown>[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data:'));
        if (block.startsWith('event: next') && data) results.push(JSON.parse(data.slice(5)) as Record<string, unknown>);
      }
      if (results.length >= count) break;
    }
  } finally {
    controller.abort();
  }
  return results;
}

describe('the alerts subscription', () => {
  it('streams raised and updated alerts of the tenant, filtered by severity', async () => {
    const tenant = await createTestTenant(api.database);
    const { reader } = await tokens(tenant);
    const afterEventId = String(await lastEventId(api.database.db));
    const query = `subscription($filter: AlertEventFilter, $after: ID) { alerts(filter: $filter, afterEventId: $after) { eventId type alert { entityKey severity kind } } }`;
    const all = subscribe(reader, query, { after: afterEventId }, 3);
    const high = subscribe(reader, query, { after: afterEventId, filter: { severity: ['HIGH'] } }, 1);
    await appendLimitEvent(api.database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('carl') }, new Date('2026-11-26T10:00:00Z'));
    await appendLimitEvent(api.database, tenant.id, 'SendingLimitExceeded', { sender: tenant.address('carl') }, new Date('2026-11-26T10:00:30Z'));
    await api.services.restrictions.restrict(limitRestriction(tenant.id, tenant.address('carl')));
    const events = (await all).map((r) => (r.data as { alerts: { type: string; alert: { entityKey: string; kind: string } } }).alerts);
    expect(events.map((e) => [e.type, e.alert.kind, e.alert.entityKey])).toEqual([
      ['RAISED', 'SENDING_LIMIT_EXCEEDED', tenant.address('carl')],
      ['UPDATED', 'SENDING_LIMIT_EXCEEDED', tenant.address('carl')],
      ['RAISED', 'USER_RESTRICTED', tenant.address('carl')],
    ]);
    expect((await high).map((r) => (r.data as { alerts: { alert: { severity: string } } }).alerts.alert.severity)).toEqual(['HIGH']);
  });
});

describe('the audit log over GraphQL', () => {
  it('searches and exports what admins did', async () => {
    const tenant = await createTestTenant(api.database);
    const { admin, reader } = await tokens(tenant);
    await api.gql(admin, UPDATE_POLICY, { input: { name: 'Email sending limit exceeded', dailyNotificationLimit: 5 } });
    await api.gql(admin, UPDATE_POLICY, { input: { name: 'Email sending limit exceeded', emailEnabled: false } });
    const search = await api.gql<{ auditLog: { totalCount: number; edges: { node: Record<string, unknown> }[] } }>(
      reader,
      `{ auditLog(first: 1, filter: { action: "UpdateAlertPolicy", target: "sending limit" }) { totalCount edges { node { actorId actorName actorRoles source action target before after result } } } }`,
    );
    expect(search.body.data?.auditLog).toEqual({
      totalCount: 2,
      edges: [{ node: { actorId: 'oid-sec-1', actorName: 'Sam Sec', actorRoles: ['Security Administrator'], source: 'graphql', action: 'UpdateAlertPolicy', target: 'Email sending limit exceeded', before: { emailEnabled: true }, after: { emailEnabled: false }, result: 'SUCCESS' } }],
    });
    // An action in any case, as Search-UnifiedAuditLog matches operations.
    for (const action of ['updatealertpolicy', 'UPDATEALERTPOLICY']) {
      const anyCase = await api.gql<{ auditLog: { totalCount: number } }>(reader, `query($action: String) { auditLog(filter: { action: $action }) { totalCount } }`, { action });
      expect(anyCase.body.data?.auditLog.totalCount).toBe(2);
    }
    const anyCaseExport = await api.gql<{ auditLogExport: { recordCount: number } }>(reader, `{ auditLogExport(format: CSV, filter: { action: "updateAlertPolicy" }) { recordCount } }`);
    expect(anyCaseExport.body.data?.auditLogExport.recordCount).toBe(2);
    const csv = await api.gql<{ auditLogExport: { contentType: string; recordCount: number; content: string } }>(reader, `{ auditLogExport(format: CSV, filter: { actor: "Sam" }) { contentType recordCount content } }`);
    const exported = csv.body.data?.auditLogExport;
    expect([exported?.contentType, exported?.recordCount]).toEqual(['text/csv; charset=utf-8', 2]);
    const lines = exported?.content.split('\r\n') ?? [];
    expect(lines[0]).toBe('id,occurredAt,tenantId,actorId,actorName,actorRoles,source,action,targetKind,target,result,before,after,details');
    expect(lines[1]).toContain(',oid-sec-1,Sam Sec,Security Administrator,graphql,UpdateAlertPolicy,alertPolicy,Email sending limit exceeded,Success,"{""dailyNotificationLimit"":null}","{""dailyNotificationLimit"":5}",');
    expect(lines).toHaveLength(4);
    const jsonl = await api.gql<{ auditLogExport: { content: string } }>(reader, `{ auditLogExport(format: JSON_LINES) { content } }`);
    expect((jsonl.body.data?.auditLogExport.content ?? '').trimEnd().split('\n').map((l) => (JSON.parse(l) as { after: unknown }).after)).toEqual([{ dailyNotificationLimit: 5 }, { emailEnabled: false }]);
  });

  it('refuses a page size out of range, or paging backwards, naming the argument given', async () => {
    const tenant = await createTestTenant(api.database);
    const { reader } = await tokens(tenant);
    const refusal = async (args: string) => (await api.gql(reader, `{ auditLog(${args}) { totalCount } }`)).body.errors?.map((e) => [e.message, e.extensions?.field]);
    for (const first of [201, -1]) expect(await refusal(`first: ${first}`)).toEqual([['first must be a whole number from 0 to 200', 'first']]);
    expect(await refusal('last: 5')).toEqual([['the audit log pages forwards only: use first and after', 'last']]);
    expect(await refusal('before: "x"')).toEqual([['the audit log pages forwards only: use first and after', 'before']]);
  });
});
