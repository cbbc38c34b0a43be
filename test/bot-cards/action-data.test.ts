import { describe, expect, it } from 'vitest';
import { parseCardAction } from '../../bot/cards/action-data.ts';
import { describeLimit, formatDuration, formatRelative, formatUtc } from '../../bot/cards/format.ts';
import { alice } from '../helpers/cards/card-fixtures.ts';
import { allCards } from '../helpers/cards/card-gallery.ts';
import { cardActions } from '../helpers/cards/card-inspection.ts';

const target = { senderAddress: 'alice@contoso.com', restrictionId: alice().id };

describe('what Teams sends back', () => {
  it('parses the data of every action on every card back into its typed shape', () => {
    const executes = Object.values(allCards()).flatMap((card) => [...cardActions(card), ...(card.refresh ? [card.refresh.action] : [])]);
    expect(executes.length).toBeGreaterThan(40);
    for (const action of executes) {
      if (action.type !== 'Action.Execute') continue;
      const parsed = parseCardAction(action.verb, action.data);
      expect(parsed, `${action.verb} ${JSON.stringify(action.data)}`).toMatchObject({ ok: true, action: { verb: action.verb } });
    }
  });

  it('turns the Submit toggles and reason into acknowledged recommendations', () => {
    const parsed = parseCardAction('unblock.submit', {
      ...target,
      ack_ENABLE_MFA: 'true',
      ack_RESET_PASSWORD: 'true',
      ack_REVOKE_SESSIONS: 'false',
      reason: '  Phishing confirmed  ',
    });
    expect(parsed).toEqual({ ok: true, action: { verb: 'unblock.submit', data: { ...target, reason: 'Phishing confirmed', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] } } });
  });

  it('normalises the search box: trimmed, and empty means no search', () => {
    expect(parseCardAction('restricted.list', { search: '  Contoso.com ' })).toEqual({ ok: true, action: { verb: 'restricted.list', data: { search: 'Contoso.com' } } });
    expect(parseCardAction('restricted.list', { search: '   ' })).toEqual({ ok: true, action: { verb: 'restricted.list', data: {} } });
  });

  it('lower-cases the address the way restrictions are keyed', () => {
    expect(parseCardAction('restricted.show', { senderAddress: 'Alice@Contoso.COM' })).toEqual({ ok: true, action: { verb: 'restricted.show', data: { senderAddress: 'alice@contoso.com' } } });
  });

  it.each([
    ['an unknown verb', 'unblock.everyone', {}, /unknown action "unblock.everyone"/],
    ['a missing restriction id', 'unblock.confirm', { senderAddress: 'alice@contoso.com', acknowledgedRecommendations: [], reason: '' }, /restrictionId/],
    ['an unknown recommendation', 'unblock.confirm', { ...target, acknowledgedRecommendations: ['DISABLE_MFA'], reason: '' }, /acknowledgedRecommendations/],
    ['a toggle value that is not true or false', 'unblock.submit', { ...target, ack_ENABLE_MFA: 'yes' }, /ack_ENABLE_MFA/],
    ['something that is not an address', 'restricted.show', { senderAddress: 'alice' }, /senderAddress/],
    ['an unknown refresh view', 'card.refresh', { view: 'everything' }, /view/],
    ['a reason longer than the API accepts', 'unblock.submit', { ...target, reason: 'x'.repeat(1001) }, /reason/],
  ])('refuses %s', (_, verb, data, message) => {
    const parsed = parseCardAction(verb, data);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('formatting', () => {
  it('writes times as UTC strings an admin can compare with the portal', () => {
    expect(formatUtc('2026-11-26T14:03:59.999Z')).toBe('2026-11-26 14:03 UTC');
    expect(formatUtc(new Date('2027-01-02T03:04:05+02:00'))).toBe('2027-01-02 01:04 UTC');
    expect(() => formatUtc('yesterday')).toThrow(RangeError);
  });

  it('says how long ago or how soon, relative to the given now', () => {
    const now = new Date('2026-11-26T14:03:00Z');
    expect(formatRelative('2026-11-26T14:02:30Z', now)).toBe('just now');
    expect(formatRelative('2026-11-26T11:47:12Z', now)).toBe('2 h 15 min ago');
    expect(formatRelative('2026-11-27T00:00:00Z', now)).toBe('in 9 h 57 min');
    expect(formatRelative('2026-11-24T08:00:00Z', now)).toBe('2 days ago');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(86_400_000)).toBe('1 day');
  });

  it('names the exceeded limit as the outbound spam policy does', () => {
    expect(describeLimit('RecipientLimitInternalPerHour', 5000)).toBe('Internal message limit: 5,000 recipients per hour');
    expect(describeLimit('RecipientLimitPerDay', 10000)).toBe('Daily message limit: 10,000 recipients per day');
    expect(describeLimit('SomethingNew', 7)).toBe('SomethingNew: 7 recipients');
    expect(describeLimit(null, null)).toBeNull();
  });
});
