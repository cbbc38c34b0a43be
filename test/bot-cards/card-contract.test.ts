import { afterEach, describe, expect, it, vi } from 'vitest';
import { cardBytes, maxCardBytes, serializeCard, type AdaptiveCard } from '../../bot/cards/adaptive-card.ts';
import { refreshBlock } from '../../bot/cards/card-elements.ts';
import { policiesCard } from '../../bot/cards/policies-card.ts';
import { maxListRows, restrictedListCard } from '../../bot/cards/restricted-list-card.ts';
import { restrictionDetailsCard } from '../../bot/cards/restriction-details-card.ts';
import type { OutboundSpamPolicy, RestrictedUser } from '../../bot/cards/types.ts';
import { verbs } from '../../bot/cards/verbs.ts';
import { alice, manager, now, policies, restrictedPage, serviceLimits } from '../helpers/cards/card-fixtures.ts';
import { allCards, refreshUserIds } from '../helpers/cards/card-gallery.ts';
import { cardActions, cardSchemaErrors } from '../helpers/cards/card-inspection.ts';

const cards = Object.entries(allCards());
/** Cards that show state someone else can change carry a refresh; results, errors and help do not. */
const showsLiveState = (name: string) => /^(restricted-list|restriction-details|(recommendations|confirm-unblock)(-quota-reached|-second-approval)?$|notice-|policies)/.test(name);
const knownVerbs: string[] = Object.values(verbs);

describe.each(cards)('%s card', (name, card) => {
  it('is a valid Adaptive Card 1.5 that Teams accepts', () => {
    expect(cardSchemaErrors(card)).toEqual([]);
    expect(card.version).toBe('1.5');
    expect(cardBytes(card)).toBeLessThanOrEqual(maxCardBytes);
    expect(card.fallbackText.length).toBeGreaterThan(0);
  });

  it('uses Action.Execute with a known verb and data object for every bot action', () => {
    for (const action of cardActions(card)) {
      if (action.type === 'Action.OpenUrl') {
        expect(action.url).toMatch(/^https:\/\//);
        continue;
      }
      expect(action.type).toBe('Action.Execute');
      expect(knownVerbs).toContain(action.verb);
      expect(typeof action.data).toBe('object');
    }
  });

  it(showsLiveState(name) ? 'refreshes through card.refresh' : 'carries no refresh', () => {
    if (!showsLiveState(name)) return expect(card.refresh).toBeUndefined();
    expect(card.refresh?.action).toMatchObject({ type: 'Action.Execute', verb: 'card.refresh' });
    expect(card.refresh?.action.data).toHaveProperty('view');
  });
});

describe('card contract', () => {
  afterEach(() => vi.useRealTimers());

  it('rejects what Teams would reject, so the schema check can fail', () => {
    const broken = { ...alice(), senderAddress: 'alice@contoso.com' };
    const card = restrictionDetailsCard({ user: broken, viewer: manager, now });
    const withTypo = { ...card, body: [...card.body, { type: 'TextBlok', text: 'x' }] } as unknown as AdaptiveCard;
    const withoutTitle = { ...card, actions: [{ type: 'Action.OpenUrl' }] } as unknown as AdaptiveCard;
    expect(cardSchemaErrors(withTypo)).not.toEqual([]);
    expect(cardSchemaErrors(withoutTitle)).not.toEqual([]);
  });

  it('keeps the Teams-only msteams property only where a card needs the full width', () => {
    const list = restrictedListCard({ page: restrictedPage(), query: {}, viewer: manager, now });
    expect(list.msteams).toEqual({ width: 'Full' });
    expect(cardSchemaErrors(list)).toEqual([]);
    expect(restrictionDetailsCard({ user: alice(), viewer: manager, now }).msteams).toBeUndefined();
  });

  it('passes the caller’s refresh user ids through and refuses more than Teams honours', () => {
    const list = restrictedListCard({ page: restrictedPage(), query: { search: 'contoso' }, viewer: manager, now, refreshUserIds });
    expect(list.refresh).toEqual({
      action: { type: 'Action.Execute', verb: 'card.refresh', title: 'Refresh', data: { view: 'restricted.list', search: 'contoso' } },
      userIds: refreshUserIds,
    });
    expect(restrictedListCard({ page: restrictedPage(), query: {}, viewer: manager, now }).refresh).not.toHaveProperty('userIds');
    const tooMany = Array.from({ length: 61 }, (_, i) => `29:user-${i}`);
    expect(() => refreshBlock({ view: 'policies' }, tooMany)).toThrow(/at most 60/);
  });

  it('builds the same card whatever the clock says: time comes only from `now`', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const first = JSON.stringify(allCards());
    vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
    expect(JSON.stringify(allCards())).toBe(first);
  });

  it('stays under 28 KB with the largest inputs the bot can pass', () => {
    const long = (n: number) => 'x'.repeat(n);
    // The longest address SMTP allows: 64 characters before the @, 254 in all.
    const address = (i: number) => `${long(60)}.${String(i).padStart(3, '0')}@${long(177)}.contoso.com`;
    const page = restrictedPage();
    const rows = Array.from({ length: maxListRows + 10 }, (_, i) => ({ ...page.nodes[0]!, id: `id-${i}`, senderAddress: address(i), reason: long(1000) }));
    const release = { releasedAt: now.toISOString(), releasedBy: long(200), reason: long(1000), acknowledgedRecommendations: [] };
    const history: RestrictedUser['history'] = Array.from({ length: 40 }, (_, i) => ({ ...alice().history[0]!, id: `h-${i}`, reason: long(1000), releases: [release] }));
    const manyPolicies: OutboundSpamPolicy[] = Array.from({ length: 40 }, (_, i) => ({
      ...policies()[1]!,
      name: `${long(60)} ${i}`,
      notify: Array.from({ length: 50 }, (_, j) => address(j)),
      conditions: { from: [address(1), address(2), address(3)], fromMemberOf: [address(4)], senderDomainIs: [long(200)], exceptIfFrom: [address(5)], exceptIfFromMemberOf: [], exceptIfSenderDomainIs: [] },
    }));
    const worst = [
      restrictedListCard({ page: { ...page, nodes: rows }, query: { search: long(320) }, viewer: manager, now, refreshUserIds: Array.from({ length: 60 }, (_, i) => `29:${long(40)}-${i}`) }),
      restrictionDetailsCard({ user: alice({ senderAddress: address(0), reason: long(1000), releases: [release], history }), viewer: manager, now }),
      policiesCard({ policies: manyPolicies, serviceLimits, now }),
    ];
    for (const card of worst) {
      expect(cardSchemaErrors(card)).toEqual([]);
      expect(cardBytes(card)).toBeLessThanOrEqual(maxCardBytes);
    }
  });

  it('refuses to serialise a card Teams would reject for its size', () => {
    const card = restrictionDetailsCard({ user: alice(), viewer: manager, now });
    expect(JSON.parse(serializeCard(card))).toEqual(card);
    const huge = { ...card, fallbackText: 'x'.repeat(maxCardBytes) };
    expect(() => serializeCard(huge)).toThrow(/Teams accepts at most 28672/);
  });
});
