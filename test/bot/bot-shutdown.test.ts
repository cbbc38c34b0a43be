import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSendguard } from '../../cli/serve.ts';
import { createLogger } from '../../cli/logger.ts';
import { grantRole, postTeamsMessage } from '../helpers/bot.ts';
import { cardText } from '../helpers/cards/card-inspection.ts';
import { testConfig } from '../helpers/config.ts';
import { createTestDatabase, createTestTenant, type TestDatabase } from '../helpers/db.ts';
import { policyActor, secondAdmin } from '../helpers/services.ts';
import { cardOf, startTeamsConnector, type ConnectorCall, type TeamsConnector } from '../helpers/teams-connector.ts';

let database: TestDatabase;
let connector: TeamsConnector;

beforeAll(async () => {
  database = await createTestDatabase();
  connector = await startTeamsConnector();
});
afterAll(async () => {
  await connector?.close();
  await database?.close();
});

const env = { SENDGUARD_BOT_DEV_NO_AUTH: 'true' };

type Sendguard = Awaited<ReturnType<typeof startSendguard>>;

const startBot = () => startSendguard(testConfig(env), { roles: ['api', 'bot'], database, logger: createLogger('silent') });

/** A running API and bot, a new tenant, and an admin of it subscribed in a new personal chat. */
async function startSubscribed(): Promise<{ first: Sendguard; tenant: Awaited<ReturnType<typeof createTestTenant>>; conversationId: string }> {
  const first = await startBot();
  const tenant = await createTestTenant(database);
  const objectId = randomUUID();
  await grantRole(first.services, tenant.id, objectId, 'Security Administrator');
  const conversationId = await subscribe(first.urls.http!, tenant.id, objectId);
  return { first, tenant, conversationId };
}

const block = (sendguard: Sendguard, tenantId: string, address: string) =>
  sendguard.services.restrictions.restrict({ tenantId, entityKind: 'user', entityKey: address, reasonCode: 'ManualBlock', temporary: false, actor: policyActor });

const release = (sendguard: Sendguard, tenantId: string, address: string) =>
  sendguard.services.unblock.release({ tenantId, entityKind: 'user', entityKey: address, reason: 'password reset', acknowledgedRecommendations: [], actor: secondAdmin });

/** The notice about `address` Teams accepted in the conversation, once there is one. */
const noticeOf = (conversationId: string, address: string) =>
  connector.until(() => {
    const found = connector.accepted('post').find((c) => c.conversationId === conversationId && cardText(cardOf(c.activity)).includes(address));
    expect(found).toBeDefined();
    return found as ConnectorCall;
  }, 30_000);

/** The statuses of the Teams notifications of the alert about `address`. */
async function teamsStatuses(sendguard: Sendguard, tenantId: string, address: string): Promise<string[]> {
  const [alert] = (await sendguard.services.alertQueries.list(tenantId, { entityKey: address }, { first: 5 })).nodes;
  return (await sendguard.services.alertQueries.notifications(tenantId, alert?.id ?? '')).filter((n) => n.channel === 'teams').map((n) => n.status);
}

/** An admin's "subscribe" in a new personal chat with the bot; returns the chat's conversation id. */
async function subscribe(http: string, tenantId: string, objectId: string): Promise<string> {
  const sent = await postTeamsMessage(http, { tenantId, objectId, name: 'Lynne Robbins', text: 'subscribe', serviceUrl: connector.url });
  return sent.conversation.id;
}

describe('stopping the bot while Teams throttles', () => {
  it('stops without waiting out Retry-After, and posts the notice once after the restart', async () => {
    const { first, tenant, conversationId } = await startSubscribed();

    // Teams asks for ten minutes' patience, far longer than the test (or SENDGUARD_SHUTDOWN_TIMEOUT_MS) allows.
    connector.refuse('post', 429, 1000, { 'Retry-After': '600' });
    const address = tenant.address('alice');
    await block(first, tenant.id, address);
    await connector.until(() => expect(connector.calls.filter((c) => c.kind === 'post' && c.conversationId === conversationId).map((c) => c.status)).toContain(429), 30_000);
    await first.stop();

    expect(await teamsStatuses(first, tenant.id, address)).toEqual(['Pending']);

    // Teams is fine again; the notification is due again shortly after the stop.
    connector.stopRefusing();
    const second = await startBot();
    try {
      await connector.until(async () => expect(await teamsStatuses(second, tenant.id, address)).toEqual(['Sent']), 60_000);
    } finally {
      await second.stop();
    }
    const posts = connector.accepted('post').filter((c) => c.conversationId === conversationId && cardText(cardOf(c.activity)).includes(address));
    expect(posts).toHaveLength(1);
  });

  it('posts a notice once when the bot stops while Teams is taking the post, before it answered', async () => {
    const { first, tenant, conversationId } = await startSubscribed();
    const address = tenant.address('dee');
    connector.hold('post');
    await block(first, tenant.id, address);
    await connector.until(() => expect(connector.heldCount()).toBe(1), 30_000);

    // The stop reaches the notification worker while Teams has the post; then Teams answers.
    let done = false;
    const stopped = first.stop().then(() => (done = true));
    await connector.until(() => expect(done || ['alerts', 'bot', 'expiry'].includes(first.stopping ?? '')).toBe(true), 30_000);
    connector.answerHeld();
    await stopped;

    const second = await startBot();
    try {
      await connector.until(async () => expect(await teamsStatuses(second, tenant.id, address)).toEqual(['Sent']), 60_000);
    } finally {
      await second.stop();
    }
    const posts = connector.calls.filter((c) => c.kind === 'post' && c.conversationId === conversationId && cardText(cardOf(c.activity)).includes(address));
    expect(posts).toHaveLength(1);
  });

  it('updates a posted notice after a restart when the user was released while the bot was down', async () => {
    const { first, tenant, conversationId } = await startSubscribed();
    const address = tenant.address('bob');
    await block(first, tenant.id, address);
    const post = await noticeOf(conversationId, address);
    await connector.until(async () => expect(await teamsStatuses(first, tenant.id, address)).toEqual(['Sent']), 30_000);
    await first.stop();

    // Released from the CLI while no bot runs.
    await release(first, tenant.id, address);
    const second = await startBot();
    try {
      const update = await connector.until(() => {
        const found = connector.accepted('update').find((c) => c.activityId === post?.activityId);
        expect(found).toBeDefined();
        return found;
      }, 30_000);
      expect(cardText(cardOf(update?.activity ?? {}))).toContain(`${address} was released`);
    } finally {
      await second.stop();
    }
  });

  it('updates on restart only the notices whose restriction changed after they were last brought up to date', async () => {
    const { first, tenant, conversationId } = await startSubscribed();
    const updatesOf = (post: ConnectorCall) => connector.accepted('update').filter((c) => c.activityId === post.activityId);
    const [ann, ben, cai] = ['ann', 'ben', 'cai'].map((local) => tenant.address(local)) as [string, string, string];
    for (const address of [ann, ben, cai]) await block(first, tenant.id, address);
    const [annPost, benPost, caiPost] = [await noticeOf(conversationId, ann), await noticeOf(conversationId, ben), await noticeOf(conversationId, cai)];
    // Ann is released while the bot runs: her notice is brought up to date then.
    await release(first, tenant.id, ann);
    await connector.until(() => expect(updatesOf(annPost)).toHaveLength(1), 30_000);
    await connector.until(async () => {
      const alerts = (await first.services.alertQueries.list(tenant.id, {}, { first: 10 })).nodes;
      const teams = await Promise.all(alerts.map(async (a) => (await first.services.alertQueries.notifications(tenant.id, a.id)).filter((n) => n.channel === 'teams')));
      expect(teams.flat().map((n) => n.status)).toEqual(['Sent', 'Sent', 'Sent']);
    }, 30_000);
    await first.stop();

    // Ben is released while no bot runs.
    await release(first, tenant.id, ben);
    const second = await startBot();
    try {
      await connector.until(() => expect(updatesOf(benPost)).toHaveLength(1), 30_000);
      // Cai's release is handled after the start's catch-up: once his notice is updated, the catch-up is over.
      await release(second, tenant.id, cai);
      await connector.until(() => expect(updatesOf(caiPost)).toHaveLength(1), 30_000);
    } finally {
      await second.stop();
    }
    expect(cardText(cardOf(updatesOf(benPost)[0]?.activity ?? {}))).toContain(`${ben} was released`);
    expect(updatesOf(annPost)).toHaveLength(1);
  });

  it('does not try again on restart an update Teams refused for good (the notice was deleted)', async () => {
    const { first, tenant, conversationId } = await startSubscribed();
    const address = tenant.address('eve');
    await block(first, tenant.id, address);
    const post = await noticeOf(conversationId, address);
    const updates = () => connector.calls.filter((c) => c.kind === 'update' && c.activityId === post.activityId);
    // Someone deleted the notice in Teams: its update is refused with 404, for good.
    connector.refuse('update', 404, 1, {}, 'NotFound');
    await release(first, tenant.id, address);
    await connector.until(() => expect(updates().map((c) => c.status)).toEqual([404]), 30_000);
    await first.stop();
    connector.stopRefusing();

    const second = await startBot();
    try {
      // A release handled after the start's catch-up: once its notice is updated, the catch-up is over.
      const later = tenant.address('fay');
      await block(second, tenant.id, later);
      const laterPost = await noticeOf(conversationId, later);
      await release(second, tenant.id, later);
      await connector.until(() => expect(connector.accepted('update').filter((c) => c.activityId === laterPost.activityId)).toHaveLength(1), 30_000);
    } finally {
      await second.stop();
    }
    expect(updates().map((c) => c.status)).toEqual([404]);
  });
});
