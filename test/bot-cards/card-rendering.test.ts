import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCardAction } from '../../bot/cards/action-data.ts';
import { restrictionDetailsCard } from '../../bot/cards/restriction-details-card.ts';
import { restrictionNoticeCard } from '../../bot/cards/restriction-notice-card.ts';
import { alertCard } from '../../bot/notices/teams-deliverer.ts';
import { alice, manager, now } from '../helpers/cards/card-fixtures.ts';
import { allCards, wizardCards } from '../helpers/cards/card-gallery.ts';
import { chromiumStatus, startCardRenderer, type CardRenderer } from '../helpers/cards/card-renderer.ts';
import { decodePng } from '../helpers/cards/png-reader.ts';

/**
 * The wizard as Teams draws it: the `adaptivecards` renderer with the Teams light host config in
 * headless Chromium. Screenshots land in test/artifacts/cards/ (they illustrate the README).
 */
const status = chromiumStatus();
const title = status.available ? 'cards rendered in Chromium' : `cards rendered in Chromium (skipped: ${status.reason})`;

describe.skipIf(!status.available)(title, () => {
  let renderer: CardRenderer;
  const wizard = wizardCards();

  beforeAll(async () => {
    renderer = await startCardRenderer();
  });
  afterAll(async () => renderer?.close());

  it.each(Object.entries(allCards()))('renders %s without renderer warnings and saves a screenshot', async (name, card) => {
    const rendered = await renderer.render(card, name);
    expect(rendered.failures).toEqual([]);
    expect(existsSync(rendered.screenshot)).toBe(true);
    const png = decodePng(readFileSync(rendered.screenshot));
    expect(png.width).toBeGreaterThan(500);
    expect(png.height).toBeGreaterThan(150);
  });

  it('lists restricted users; a row opens the details, Search sends the typed text', async () => {
    const rendered = await renderer.render(wizard['restricted-list']!, 'restricted-list');
    expect(rendered.buttons).toEqual(['Search', 'Previous', 'Next']);
    for (const address of ['alice@contoso.com', 'bob.lee@contoso.com', 'finance-reports@contoso.com', 'j.smith@contoso.com']) expect(rendered.text).toContain(address);
    expect(rendered.text).toContain('Temporary: lifts in 9 h 57 min');
    await renderer.page.getByText('bob.lee@contoso.com').click();
    await renderer.page.getByPlaceholder('Search by address or domain').fill('fabrikam.com');
    const executed = await renderer.click('Search');
    expect(executed.map((a) => [a.verb, a.data])).toEqual([
      ['restricted.show', { senderAddress: 'bob.lee@contoso.com' }],
      ['restricted.list', { search: 'fabrikam.com' }],
    ]);
  });

  it('shows a manager an Unblock button and a read-only admin none', async () => {
    const forManager = await renderer.render(wizard['restriction-details']!, 'restriction-details');
    expect(forManager.buttons).toEqual(['Unblock', 'Back to restricted users']);
    expect(forManager.text).toContain('External message limit: 100 recipients per hour');
    expect(forManager.text).toContain('Released by Megan Bowen at 2026-10-14 15:20 UTC');
    const forReader = await renderer.render(wizard['restriction-details-read-only']!, 'restriction-details-read-only');
    expect(forReader.buttons).toEqual(['Back to restricted users']);
    expect(forReader.text).toContain('You have read-only access');
  });

  it('will not submit the recommendations until MFA and the password reset are confirmed', async () => {
    const rendered = await renderer.render(wizard.recommendations!, 'recommendations');
    expect(rendered.buttons).toEqual(['Submit', 'Cancel']);
    expect(await renderer.click('Submit')).toEqual([]);
    const errors = renderer.page.locator('#root').getByText(/^Required: confirm/);
    expect(await errors.allInnerTexts()).toEqual([
      'Required: confirm "Multi-factor authentication is on" before you unblock.',
      'Required: confirm "The password is reset" before you unblock.',
    ]);
    await renderer.page.getByRole('checkbox', { name: 'Multi-factor authentication is on' }).check();
    await renderer.page.getByRole('checkbox', { name: 'The password is reset' }).check();
    await renderer.page.getByRole('textbox', { name: /Reason for unblocking/ }).fill('Phishing confirmed');
    const [submitted] = await renderer.click('Submit');
    expect(submitted).toMatchObject({ verb: 'unblock.submit' });
    expect(parseCardAction(submitted!.verb, submitted!.data)).toEqual({
      ok: true,
      action: {
        verb: 'unblock.submit',
        data: { senderAddress: 'alice@contoso.com', restrictionId: '5b0f9a52-6f3e-4d1c-9a4e-2f1d3c7b8e01', reason: 'Phishing confirmed', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'] },
      },
    });
  });

  it('links every recommendation to Microsoft’s documentation', async () => {
    await renderer.render(wizard.recommendations!, 'recommendations');
    const links = await renderer.page.locator('#root a', { hasText: 'Learn more' }).evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(links).toHaveLength(5);
    for (const href of links) expect(href).toMatch(/^https:\/\/learn\.microsoft\.com\//);
  });

  it('asks "Unblock alice@contoso.com?" and Yes sends the confirmation', async () => {
    const rendered = await renderer.render(wizard['confirm-unblock']!, 'confirm-unblock');
    expect(rendered.text).toContain('Unblock alice@contoso.com?');
    expect(rendered.buttons).toEqual(['Yes', 'Cancel']);
    const [confirmed] = await renderer.click('Yes');
    expect(confirmed).toMatchObject({ verb: 'unblock.confirm', data: { senderAddress: 'alice@contoso.com', acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS'] } });
  });

  it('past the quota shows when the next release is possible and no Submit or Yes; with a second approval, both', async () => {
    const cards = allCards();
    for (const name of ['recommendations-quota-reached', 'confirm-unblock-quota-reached']) {
      const rendered = await renderer.render(cards[name]!, name);
      expect(rendered.text).toContain("alice@contoso.com can't be unblocked yet");
      expect(rendered.text).toContain('The next release is possible at 2026-12-04 09:12 UTC');
      expect(rendered.buttons).toEqual(['Show details']);
    }
    const recommendations = await renderer.render(cards['recommendations-second-approval']!, 'recommendations-second-approval');
    expect(recommendations.buttons).toEqual(['Submit', 'Cancel']);
    const confirm = await renderer.render(cards['confirm-unblock-second-approval']!, 'confirm-unblock-second-approval');
    expect(confirm.buttons).toEqual(['Yes', 'Cancel']);
    expect(confirm.text).toContain("This release needs a second admin's approval");
  });

  it('reports the release with who, when and how soon sending works', async () => {
    const rendered = await renderer.render(wizard['unblock-result']!, 'unblock-result');
    expect(rendered.text).toContain('alice@contoso.com is unblocked');
    expect(rendered.text).toContain('Released by Megan Bowen at 2026-11-26 14:05 UTC; sending works again within a second.');
    expect(rendered.buttons).toEqual(['Back to restricted users']);
  });

  it('shows a policy name and a sender address with Markdown characters as they are', async () => {
    const policy = 'Sales _EU_ **priority** [ops](https://example.com/x) (`night`) <b>';
    const sender = '_ops_@contoso.com';
    const user = alice({ senderAddress: sender, policyName: policy });
    const alert = {
      id: '0b6f3f0e-6b1c-4a53-9b1e-1f2d3c4b5a69', tenantId: 't', policyId: 'p', kind: 'SendingLimitExceeded', severity: 'Medium', status: 'New', title: `${sender} exceeded a sending limit`,
      entityKind: 'user', entityKey: sender, restrictionId: null, details: { exceededLimit: 'RecipientLimitExternalPerHour', limitValue: 500, count: 512, policyName: policy },
      hitCount: 1, firstSeenAt: now, lastSeenAt: now, statusChangedBy: null, updatedAt: now,
    } as const;
    const cards = {
      'markdown-details': restrictionDetailsCard({ user, viewer: manager, now }),
      'markdown-notice': restrictionNoticeCard({ user, now }),
      'markdown-alert': alertCard({ ...alert, details: { ...alert.details } }, now),
    };
    for (const [name, card] of Object.entries(cards)) {
      const rendered = await renderer.render(card, name);
      expect([name, rendered.failures]).toEqual([name, []]);
      const lines = rendered.text.split('\n');
      const shown = (part: string, whole: string) => lines.filter((line) => line.includes(part) && !line.includes(whole));
      expect([name, lines.some((line) => line.includes(policy)), shown('priority', policy), shown('@contoso.com', sender)]).toEqual([name, true, [], []]);
    }
  });
});
