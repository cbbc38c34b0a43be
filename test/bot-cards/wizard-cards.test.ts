import { describe, expect, it } from 'vitest';
import { confirmUnblockCard } from '../../bot/cards/confirm-unblock-card.ts';
import { recommendationsCard } from '../../bot/cards/recommendations-card.ts';
import { restrictedListCard } from '../../bot/cards/restricted-list-card.ts';
import { restrictionDetailsCard } from '../../bot/cards/restriction-details-card.ts';
import { unblockResultCard } from '../../bot/cards/unblock-result-card.ts';
import type { ToggleInput } from '../../bot/cards/adaptive-card.ts';
import { recommendationKinds } from '../../bot/cards/types.ts';
import { recommendationKinds as domainRecommendationKinds } from '../../domain/restrictions/recommendations.ts';
import { alice, compromisedSender, expiredAlice, manager, now, reader, recommendations, releasedAlice, restrictedPage } from '../helpers/cards/card-fixtures.ts';
import { actionLines, buttonTitles, cardActions, cardText, elements } from '../helpers/cards/card-inspection.ts';

const hasUnblock = (card: ReturnType<typeof restrictionDetailsCard>) => cardActions(card).some((a) => a.type === 'Action.Execute' && a.verb === 'unblock.recommendations');

describe('restricted users list', () => {
  const card = restrictedListCard({ page: restrictedPage(), query: { after: 'Y3Vyc29yOjk=' }, viewer: manager, now });

  it('shows each user with the reason, since when, and whether the block is temporary', () => {
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Sendguard
      Restricted users
      4 of 14 restricted users, as of 2026-11-26 14:03 UTC
      [text input search] Search by address or domain
      alice@contoso.com
      Sent to more than 100 external recipients within an hour, the external message limit of the Default policy.
      Since 2026-11-26 11:47 UTC (2 h 15 min ago) · Temporary: lifts in 9 h 57 min
      ›
      bob.lee@contoso.com
      Sent to more than 10,000 recipients in 24 hours, the service limit; this clears by itself.
      Since 2026-11-26 09:15 UTC (4 h 48 min ago) · Temporary: lifts in 19 h 12 min
      ›
      finance-reports@contoso.com
      Signed in from an unfamiliar country and sent a burst of messages with the same attachment; looks compromised.
      Since 2026-11-25 22:10 UTC (15 h 53 min ago) · Until an admin releases it
      ›
      j.smith@contoso.com
      Restricted by Megan Bowen: mailbox reported in a phishing campaign.
      Since 2026-11-24 08:00 UTC (2 days ago) · Until an admin releases it
      ›"
    `);
  });

  it('searches with the typed text, pages without it, and opens details from each row', () => {
    expect(actionLines(card)).toMatchInlineSnapshot(`
      [
        "Search → restricted.list {}",
        "Details → restricted.show {"senderAddress":"alice@contoso.com"}",
        "Details → restricted.show {"senderAddress":"bob.lee@contoso.com"}",
        "Details → restricted.show {"senderAddress":"finance-reports@contoso.com"}",
        "Details → restricted.show {"senderAddress":"j.smith@contoso.com"}",
        "Previous → restricted.list {"before":"Y3Vyc29yOjEw"}",
        "Next → restricted.list {"after":"Y3Vyc29yOjEz"}",
      ]
    `);
    const search = cardActions(card).find((a) => a.title === 'Search');
    expect(search).toMatchObject({ verb: 'restricted.list', associatedInputs: 'auto' });
    expect(elements(card).find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'search' });
  });

  it('says so when nothing matches, and offers no paging', () => {
    const empty = restrictedListCard({
      page: { nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: 0 },
      query: {},
      viewer: reader,
      now,
    });
    expect(cardText(empty)).toContain('No users are restricted from sending email.');
    expect(buttonTitles(empty)).toEqual([]);
  });
});

describe('restriction details', () => {
  it('tells a manager who, why, the limit and counts, the policy, expiry and history, with an Unblock button', () => {
    const card = restrictionDetailsCard({ user: alice(), viewer: manager, now });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Restricted users
      alice@contoso.com
      Restricted from sending email since 2026-11-26 11:47 UTC (2 h 15 min ago)
      The user can still receive email; every message they send is returned with 550 5.1.8 Access denied, bad outbound sender.
      Sent to more than 100 external recipients within an hour, the external message limit of the Default policy.
      Status: Restricted
      Reason: Email sending limit exceeded
      Limit exceeded: External message limit: 100 recipients per hour
      Internal recipients: 12
      External recipients: 100
      Policy: Default
      Restricted: 2026-11-26 11:47 UTC
      Last changed: 2026-11-26 11:47 UTC
      Block: Temporary, lifts at 2026-11-27 00:00 UTC (in 9 h 57 min)
      A sender exceeding the outbound email limits is an indicator of a compromised account. Before you unblock, follow the recommendations to regain control of the account.
      Earlier restrictions (2)
      2026-10-14 09:12 UTC · Email sending limit exceeded
      Released by Megan Bowen at 2026-10-14 15:20 UTC: Newsletter sent from a personal mailbox; moved to the bulk mail service.
      2026-09-03 16:30 UTC · Service recipient limit reached
      Expired at 2026-09-04 00:00 UTC"
    `);
    expect(actionLines(card)).toMatchInlineSnapshot(`
      [
        "Unblock → unblock.recommendations {"senderAddress":"alice@contoso.com","restrictionId":"5b0f9a52-6f3e-4d1c-9a4e-2f1d3c7b8e01"}",
        "Back to restricted users → restricted.list {}",
      ]
    `);
  });

  it('offers a read-only admin no Unblock action anywhere on the card', () => {
    const card = restrictionDetailsCard({ user: alice(), viewer: reader, now });
    expect(hasUnblock(card)).toBe(false);
    expect(cardText(card)).toContain('You have read-only access');
  });

  it('shows the current state instead of Unblock once released or expired', () => {
    const released = restrictionDetailsCard({ user: releasedAlice(), viewer: manager, now });
    const expired = restrictionDetailsCard({ user: expiredAlice(), viewer: manager, now: new Date('2026-11-27T08:00:00Z') });
    expect(hasUnblock(released) || hasUnblock(expired)).toBe(false);
    expect(cardText(released)).toContain('Released by Megan Bowen at 2026-11-26 14:05 UTC');
    expect(cardText(expired)).toContain('Lifted at 2026-11-27 00:00 UTC. This user can send email again.');
  });

  it('lists only earlier restrictions when the history includes this one, as the API returns it', () => {
    const user = alice();
    const withSelf = { ...user, history: [{ ...user, releases: [] }, ...user.history] };
    expect(cardText(restrictionDetailsCard({ user: withSelf, viewer: manager, now }))).toBe(cardText(restrictionDetailsCard({ user, viewer: manager, now })));
  });

  it('describes a restriction that no limit caused, and a first restriction', () => {
    const text = cardText(restrictionDetailsCard({ user: compromisedSender(), viewer: manager, now }));
    expect(text).toContain('Reason: Suspected compromised account');
    expect(text).not.toContain('Limit exceeded');
    expect(text).toContain('Block: Until an admin releases it');
    expect(text).toContain('None: this is the first time this user was restricted.');
  });
});

describe('recommendations', () => {
  const card = recommendationsCard({ user: alice(), recommendations, unblockQuota: { releasesInWindow: 1, maxReleases: 3, windowDays: 30, resetsAt: '2026-12-14T15:20:03Z', secondApprovalPastQuota: false }, now });
  const toggles = elements(card).filter((e): e is ToggleInput => e.type === 'Input.Toggle');

  it('asks for every recommendation the API knows', () => {
    expect([...recommendationKinds]).toEqual([...domainRecommendationKinds]);
    expect(toggles.map((t) => t.id)).toEqual(recommendationKinds.map((k) => `ack_${k}`));
  });

  it('requires MFA and the password reset, each with an error message, and leaves the rest optional', () => {
    expect(toggles.map((t) => [t.id, t.isRequired ?? false, t.errorMessage ?? null])).toMatchInlineSnapshot(`
      [
        [
          "ack_ENABLE_MFA",
          true,
          "Required: confirm "Multi-factor authentication is on" before you unblock.",
        ],
        [
          "ack_RESET_PASSWORD",
          true,
          "Required: confirm "The password is reset" before you unblock.",
        ],
        [
          "ack_REVOKE_SESSIONS",
          false,
          null,
        ],
        [
          "ack_REMOVE_FORWARDING_AND_INBOX_RULES",
          false,
          null,
        ],
        [
          "ack_REVIEW_SIGN_INS",
          false,
          null,
        ],
      ]
    `);
  });

  it('links each step to the Microsoft documentation and submits all inputs', () => {
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Unblock user · Recommendations
      Before you unblock alice@contoso.com
      Regain control of the account first. Enabling multi-factor authentication (MFA) and resetting the password are a good defense.
      Required
      [required toggle ack_ENABLE_MFA] Enable multi-factor authentication / Multi-factor authentication is on
      Require a second factor so a stolen password alone cannot send mail. [Learn more](https://learn.microsoft.com/entra/identity/authentication/tutorial-enable-azure-mfa)
      [required toggle ack_RESET_PASSWORD] Reset the password / The password is reset
      Change the user's password; the old one may be known to an attacker. [Learn more](https://learn.microsoft.com/microsoft-365/admin/add-users/reset-passwords)
      Also recommended
      [optional toggle ack_REVOKE_SESSIONS] Revoke active sessions / All sessions are revoked
      Sign the user out everywhere so existing tokens stop working. [Learn more](https://learn.microsoft.com/entra/identity/users/users-revoke-access)
      [optional toggle ack_REMOVE_FORWARDING_AND_INBOX_RULES] Remove suspicious forwarding and inbox rules / Forwarding and inbox rules are checked
      Attackers often forward mail out or hide replies with inbox rules. [Learn more](https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account)
      [optional toggle ack_REVIEW_SIGN_INS] Review recent sign-ins / Recent sign-ins are reviewed
      Look for sign-ins from unfamiliar places or devices. [Learn more](https://learn.microsoft.com/entra/identity/monitoring-health/concept-sign-ins)
      [text input reason] Reason for unblocking (kept in the audit log)
      This sender was released 1 time in the last 30 days; at most 3 releases are allowed in that window."
    `);
    expect(card.actions).toMatchInlineSnapshot(`
      [
        {
          "associatedInputs": "auto",
          "data": {
            "restrictionId": "5b0f9a52-6f3e-4d1c-9a4e-2f1d3c7b8e01",
            "senderAddress": "alice@contoso.com",
          },
          "style": "positive",
          "title": "Submit",
          "type": "Action.Execute",
          "verb": "unblock.submit",
        },
        {
          "associatedInputs": "none",
          "data": {
            "senderAddress": "alice@contoso.com",
          },
          "title": "Cancel",
          "type": "Action.Execute",
          "verb": "unblock.cancel",
        },
      ]
    `);
  });

  it('shows the current state when the card is stale', () => {
    const stale = recommendationsCard({ user: releasedAlice(), recommendations, unblockQuota: null, now });
    expect(elements(stale).some((e) => e.type === 'Input.Toggle')).toBe(false);
    expect(actionLines(stale)).toEqual(['Show details → restricted.show {"senderAddress":"alice@contoso.com"}']);
  });
});

describe('confirmation and result', () => {
  it('asks "Unblock <address>?" with Yes carrying everything the release needs', () => {
    const card = confirmUnblockCard({
      user: alice(),
      acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'],
      reason: 'Phishing confirmed; password reset and MFA enabled.',
      unblockQuota: null,
      now,
    });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Unblock user · Confirm
      Unblock alice@contoso.com?
      alice@contoso.com will be able to send email again within a second of your confirmation.
      You confirmed:
      - Multi-factor authentication is on
      - The password is reset
      Reason: Phishing confirmed; password reset and MFA enabled."
    `);
    expect(actionLines(card)).toMatchInlineSnapshot(`
      [
        "Yes → unblock.confirm {"senderAddress":"alice@contoso.com","restrictionId":"5b0f9a52-6f3e-4d1c-9a4e-2f1d3c7b8e01","acknowledgedRecommendations":["ENABLE_MFA","RESET_PASSWORD"],"reason":"Phishing confirmed; password reset and MFA enabled."}",
        "Cancel → unblock.cancel {"senderAddress":"alice@contoso.com"}",
      ]
    `);
  });

  it('says who released the user, when, and that sending works again within a second', () => {
    const card = unblockResultCard({ user: releasedAlice() });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Unblock user · Done
      alice@contoso.com is unblocked
      Released by Megan Bowen at 2026-11-26 14:05 UTC; sending works again within a second.
      Steps confirmed:
      - Multi-factor authentication is on
      - The password is reset
      - All sessions are revoked
      Reason: Phishing confirmed; password reset and MFA enabled.
      The release is in the audit log. Messages that were refused while the user was restricted are not resent; ask the user to send them again."
    `);
    expect(actionLines(card)).toEqual(['Back to restricted users → restricted.list {}']);
  });

  it('refuses to build a result for a user with no release', () => {
    expect(() => unblockResultCard({ user: alice() })).toThrow(/no release recorded for alice@contoso.com/);
  });
});
