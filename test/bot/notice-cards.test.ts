import { describe, expect, it } from 'vitest';
import { cardBytes, maxCardBytes } from '../../bot/cards/adaptive-card.ts';
import { subscriptionCard } from '../../bot/cards/subscription-card.ts';
import { ConnectorError, parseRetryAfter, withConnectorRetry } from '../../bot/notices/connector.ts';
import { alertCard } from '../../bot/notices/teams-deliverer.ts';
import type { Alert } from '../../db/repos/alerts.ts';
import { actionLines, cardSchemaErrors, cardText, markdownTexts } from '../helpers/cards/card-inspection.ts';

const now = new Date('2026-11-26T14:03:00Z');

function alert(overrides: Partial<Alert>): Alert {
  return {
    id: '0b6f3f0e-6b1c-4a53-9b1e-1f2d3c4b5a69',
    tenantId: 't',
    policyId: 'p',
    kind: 'SendingLimitNearlyReached',
    severity: 'Medium',
    status: 'New',
    title: 'alice@contoso.com is close to a sending limit',
    entityKind: 'user',
    entityKey: 'alice@contoso.com',
    restrictionId: null,
    details: { exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 500, count: 412, internalRecipientCount: 3, externalRecipientCount: 412, policyName: 'Default', thresholdPercent: 80 },
    hitCount: 1,
    firstSeenAt: new Date('2026-11-26T13:58:00Z'),
    lastSeenAt: new Date('2026-11-26T13:58:00Z'),
    statusChangedBy: null,
    updatedAt: new Date('2026-11-26T13:58:00Z'),
    ...overrides,
  };
}

describe('cards the bot runtime adds', () => {
  it('answers subscribe and unsubscribe with what is now true in this conversation', () => {
    const on = subscriptionCard({ scope: 'team', subscribed: true, changed: true, by: 'Lynne Robbins' });
    const off = subscriptionCard({ scope: 'groupChat', subscribed: false, changed: false, by: 'Lynne Robbins' });
    for (const card of [on, off]) expect(cardSchemaErrors(card)).toEqual([]);
    expect(cardText(on)).toContain('Restriction notices are on in this channel');
    expect(actionLines(on)).toEqual(['Unsubscribe → notices.unsubscribe {}', 'Restricted users → restricted.list {}']);
    expect(cardText(off)).toContain('They already were off; nothing changed.');
  });

  it('shows an alert that is not a restriction with its limit, counts and policy', () => {
    const card = alertCard(alert({}), now);
    expect(cardSchemaErrors(card)).toEqual([]);
    expect(cardBytes(card)).toBeLessThan(maxCardBytes);
    expect(cardText(card)).toContain('Alert · Sending limit nearly reached · Medium severity');
    expect(cardText(card)).toContain('alice@contoso.com has used 80 % of a sending limit');
    expect(cardText(card)).toContain('Limit: External message limit: 500 recipients per hour');
    expect(cardText(card)).toContain('Recipients: 3 internal, 412 external');
    expect(actionLines(card)).toEqual(['Show sender → restricted.show {"senderAddress":"alice@contoso.com"}', 'Policies → policies.list {}']);
    const connector = alertCard(alert({ kind: 'UserRestricted', severity: 'High', entityKind: 'connector', entityKey: 'c0ffee00-0000-4000-8000-000000000001', details: {} }), now);
    expect(cardSchemaErrors(connector)).toEqual([]);
    expect(actionLines(connector)).toEqual(['Policies → policies.list {}']);
  });

  it('shows a sender address and a policy name with Markdown characters as they are', () => {
    const policy = 'Sales _EU_ **priority** [ops](https://example.com/x) (`night`) <b>';
    const card = alertCard(alert({ entityKey: '_ops_*team*@contoso.com', details: { exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 500, count: 412, policyName: policy } }), now);
    expect(cardSchemaErrors(card)).toEqual([]);
    expect(markdownTexts(card).filter((t) => t.includes('priority') || t.includes('_ops_'))).toEqual([]);
    expect(cardText(card)).toContain(policy);
  });
});

describe('connector retries', () => {
  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 14:03:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('retries throttling and server errors, not refusals, and gives up after the last attempt', async () => {
    const options = { attempts: 4, baseMs: 1, maxMs: 5 };
    const answers = [new ConnectorError('throttled', 429, 0), new ConnectorError('unavailable', 503, null), new ConnectorError('unreachable', null, null)];
    let calls = 0;
    await expect(withConnectorRetry(async () => {
      const answer = answers[calls++];
      if (answer) throw answer;
      return 'posted';
    }, options)).resolves.toBe('posted');
    expect(calls).toBe(4);

    calls = 0;
    await expect(withConnectorRetry(async () => {
      calls += 1;
      throw new ConnectorError('bot removed from the conversation', 403, null);
    }, options)).rejects.toMatchObject({ status: 403 });
    expect(calls).toBe(1);

    calls = 0;
    await expect(withConnectorRetry(async () => {
      calls += 1;
      throw new ConnectorError('throttled', 429, 0);
    }, options)).rejects.toMatchObject({ status: 429 });
    expect(calls).toBe(4);
  });
});
