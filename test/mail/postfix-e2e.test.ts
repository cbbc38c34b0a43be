import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSendguard, type RunningSendguard } from '../../cli/serve.ts';
import { createTestDatabase, createTestTenant, type TestDatabase, type TestTenant } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { setDefaultPolicy } from '../helpers/enforcement.ts';
import { postfixUnavailable, startPostfix, swaks, type RunningPostfix } from '../helpers/postfix.ts';
import { admin } from '../helpers/services.ts';

const unavailable = postfixUnavailable();
// CI installs Postfix and swaks: there the test must run (and fails loudly if it cannot).
const skip = unavailable !== null && !process.env.CI;
if (skip) console.warn(`skipping the real-Postfix end-to-end test: ${unavailable}`);

const OK = /^250 2\.1\.5 /;
const REFUSED = /^550 5\.1\.8 .*Access denied, bad outbound sender$/;

describe.skipIf(skip)('mail flow through a real Postfix', () => {
  let database: TestDatabase;
  let sendguard: RunningSendguard;
  let postfix: RunningPostfix;
  let tenant: TestTenant;

  beforeAll(async () => {
    if (unavailable) throw new Error(`the Postfix end-to-end test cannot run: ${unavailable}`);
    database = await createTestDatabase();
    tenant = await createTestTenant(database);
    await setDefaultPolicy(database, tenant.id, { externalPerHour: 100, action: 'BlockUser' });
    sendguard = await startSendguard(testConfig({ SENDGUARD_RESTRICTION_CACHE_MS: '500' }), { roles: ['policy'], database });
    const policyUrl = new URL(sendguard.urls.policy ?? '');
    expect(policyUrl.protocol).toBe('tcp:');
    postfix = await startPostfix(`inet:127.0.0.1:${policyUrl.port}`);
  });

  afterAll(async () => {
    await postfix?.stop();
    await sendguard?.stop();
    await database?.close();
  });

  it('accepts 100 recipients, refuses the 101st with 5.1.8, lists the sender, and lets it send again right after a release', async () => {
    const ann = tenant.address('ann');
    const recipients = Array.from({ length: 101 }, (_, i) => `rcpt${i}@fabrikam.test`);

    const first = await swaks(postfix.port, ann, recipients);
    expect(first.rcptReplies.slice(0, 100).every((r) => OK.test(r)), first.rcptReplies.join('\n')).toBe(true);
    expect(first.rcptReplies[100]).toMatch(REFUSED);
    expect(first.dataReply).toMatch(/^250 2\.0\.0 Ok: queued/);

    const listed = await sendguard.services.restrictionQueries.list(tenant.id, 'user', {}, { field: 'createdAt', descending: true }, {});
    expect(listed.nodes.map((r) => [r.entityKey, r.status, r.reasonCode, r.exceededLimit, r.limitValue, r.externalRecipientCount, r.lastMessageRecipientCount])).toEqual([
      [ann, 'Restricted', 'SendingLimitExceeded', 'RecipientLimitExternalPerHour', 100, 100, 101],
    ]);

    const again = await swaks(postfix.port, ann, [tenant.address('colleague')]);
    expect(again.rcptReplies).toHaveLength(1);
    expect(again.rcptReplies[0]).toMatch(REFUSED);
    expect(again.dataReply).toBeUndefined();

    const toAnnFromColleague = await swaks(postfix.port, tenant.address('bob'), [ann]);
    const toAnnFromOutside = await swaks(postfix.port, 'partner@fabrikam.test', [ann]);
    expect([toAnnFromColleague.rcptReplies, toAnnFromOutside.rcptReplies]).toEqual([[expect.stringMatching(OK)], [expect.stringMatching(OK)]]);
    expect(toAnnFromColleague.dataReply).toMatch(/^250 /);

    const released = await sendguard.services.unblock.release({
      tenantId: tenant.id,
      entityKind: 'user',
      entityKey: ann,
      reason: 'password reset, MFA enabled',
      acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'],
      actor: admin,
    });
    expect(released.ok).toBe(true);
    const releasedAt = Date.now();
    let reply = '';
    while (Date.now() - releasedAt <= 1000) {
      reply = (await swaks(postfix.port, ann, ['after-release@fabrikam.test'], { quitAfterRcpt: true })).rcptReplies[0] ?? '';
      if (OK.test(reply)) break;
    }
    expect(reply, 'the released sender could not send within 1 second').toMatch(OK);
    const sent = await swaks(postfix.port, ann, ['welcome-back@fabrikam.test']);
    expect(sent.rcptReplies).toEqual([expect.stringMatching(OK)]);
    expect(sent.dataReply).toMatch(/^250 2\.0\.0 Ok: queued/);
  });
});
