import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { botCommands } from '../../bot/cards/bot-commands.ts';
import { errorCard } from '../../bot/cards/error-card.ts';
import { helpCard } from '../../bot/cards/help-card.ts';
import { policiesCard } from '../../bot/cards/policies-card.ts';
import { refusalCard } from '../../bot/cards/refusal-card.ts';
import { restrictionNoticeCard } from '../../bot/cards/restriction-notice-card.ts';
import type { RefusalReason } from '../../bot/cards/types.ts';
import { welcomeCard } from '../../bot/cards/welcome-card.ts';
import { alice, now, policies, releasedAlice, serviceLimits } from '../helpers/cards/card-fixtures.ts';
import { actionLines, cardText } from '../helpers/cards/card-inspection.ts';

describe('welcome and help', () => {
  it('welcomes the installer and starts the common tasks', () => {
    const card = welcomeCard({ scope: 'team', displayName: 'Megan Bowen' });
    expect(cardText(card).split('\n').slice(0, 2)).toEqual(['Sendguard', "Hi Megan Bowen, I'm Sendguard"]);
    expect(cardText(card)).toContain('Mention me with **help**');
    expect(actionLines(card)).toMatchInlineSnapshot(`
      [
        "Subscribe → notices.subscribe {}",
        "Restricted users → restricted.list {}",
        "Policies → policies.list {}",
        "Help → help.show {}",
      ]
    `);
  });

  it('lists every command the app manifest declares, and how to ask in a channel', () => {
    const card = helpCard({ scope: 'team', botName: 'Sendguard' });
    const text = cardText(card);
    for (const command of botCommands) expect(text).toContain(`${command.usage}\n${command.description}`);
    expect(text).toContain('mention me first, for example: @Sendguard restricted contoso.com');
    const manifest = JSON.parse(readFileSync(new URL('../../bot/teams-app/manifest.json', import.meta.url), 'utf8')) as { bots: { commandLists: { commands: { title: string }[] }[] }[] };
    for (const list of manifest.bots[0]!.commandLists) expect(list.commands.map((c) => c.title)).toEqual(botCommands.map((c) => c.name));
  });
});

describe('error cards', () => {
  it('explains the unblock quota with the count, the window and when it resets', () => {
    const card = errorCard({
      failure: { kind: 'UNBLOCK_QUOTA_EXCEEDED', senderAddress: 'alice@contoso.com', releaseCount: 3, maxReleases: 3, windowDays: 30, resetsAt: '2026-12-04T09:12:40Z' },
      now,
    });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Sendguard
      alice@contoso.com can't be unblocked yet
      Released 3 times in the last 30 days; at most 3 releases are allowed.
      The next release is possible at 2026-12-04 09:12 UTC (in 7 days).
      A sender restricted this often is likely still compromised. Review recent sign-ins, inbox rules and forwarding before the next release."
    `);
  });

  it('shows the current state when the user is no longer restricted', () => {
    const released = errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'alice@contoso.com', current: releasedAlice() }, now });
    expect(cardText(released)).toMatchInlineSnapshot(`
      "Sendguard
      alice@contoso.com is not restricted
      Released: this user can send email again
      Released by Megan Bowen at 2026-11-26 14:05 UTC
      Reason: Phishing confirmed; password reset and MFA enabled."
    `);
    const never = errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'nobody@contoso.com', current: null }, now });
    expect(cardText(never)).toContain('This address has never been restricted from sending email.');
  });

  it('says the user was restricted again since the card was sent, and shows the new restriction to review', () => {
    const again = errorCard({ failure: { kind: 'NOT_RESTRICTED', senderAddress: 'alice@contoso.com', current: alice() }, now });
    expect(cardText(again)).toMatchInlineSnapshot(`
      "Sendguard
      alice@contoso.com was restricted again since this card was sent
      Nothing was released. The restriction this card was for has ended; this is the new one.
      Reason: Email sending limit exceeded
      Limit exceeded: External message limit: 100 recipients per hour
      Restricted: 2026-11-26 11:47 UTC (2 h 15 min ago)
      Review the new restriction before you unblock the sender."
    `);
    expect(actionLines(again)).toMatchInlineSnapshot(`
      [
        "Review the new restriction → restricted.show {"senderAddress":"alice@contoso.com"}",
      ]
    `);
  });

  it('tells a read-only admin which roles can unblock or change notices, and shows no data', () => {
    const card = errorCard({ failure: { kind: 'FORBIDDEN', attempted: 'unblock users' }, now });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "Sendguard
      You can't unblock users
      Your role lets you view restricted users but not change anything. Unblocking users and turning restriction notices on or off need the Global Administrator, Security Administrator or Organization Management role."
    `);
  });

  it('names the field of a validation error and offers to try again', () => {
    const card = errorCard({
      failure: { kind: 'VALIDATION', field: 'reason', message: 'must be at most 1000 characters', retry: { senderAddress: 'alice@contoso.com', restrictionId: alice().id } },
      now,
    });
    expect(cardText(card)).toContain('Reason: must be at most 1000 characters');
    expect(actionLines(card)).toEqual([`Try again → unblock.recommendations {"senderAddress":"alice@contoso.com","restrictionId":"${alice().id}"}`]);
  });

  it('says a second approval is needed and by whom it was requested', () => {
    const card = errorCard({ failure: { kind: 'SECOND_APPROVAL_REQUIRED', senderAddress: 'alice@contoso.com', requestedBy: 'Megan Bowen', requestedAt: '2026-11-26T14:04:00Z' }, now });
    expect(cardText(card)).toContain('Release requested by Megan Bowen at 2026-11-26 14:04 UTC.');
  });
});

describe('restriction notices', () => {
  it('announces a new restriction with a Review and unblock action', () => {
    const card = restrictionNoticeCard({ user: alice(), now });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "User restricted from sending email
      alice@contoso.com was restricted
      Sent to more than 100 external recipients within an hour, the external message limit of the Default policy.
      Reason: Email sending limit exceeded
      Limit exceeded: External message limit: 100 recipients per hour
      Internal recipients: 12
      External recipients: 100
      Policy: Default
      Restricted: 2026-11-26 11:47 UTC (2 h 15 min ago)
      Block: Temporary, lifts at 2026-11-27 00:00 UTC (in 9 h 57 min)
      They can still receive email. Review the account before you unblock it: exceeding a sending limit is an indicator of a compromised account."
    `);
    expect(actionLines(card)).toEqual(['Review and unblock → restricted.show {"senderAddress":"alice@contoso.com"}']);
    expect(card.refresh?.action.data).toEqual({ view: 'restriction.notice', senderAddress: 'alice@contoso.com', restrictionId: alice().id });
  });

  it('turns into the released variant for the same restriction', () => {
    const card = restrictionNoticeCard({ user: releasedAlice(), now });
    expect(cardText(card)).toMatchInlineSnapshot(`
      "User restricted from sending email
      alice@contoso.com was released
      Released: this user can send email again
      Released by Megan Bowen at 2026-11-26 14:05 UTC
      Reason: Phishing confirmed; password reset and MFA enabled."
    `);
    expect(card.refresh?.action.data).toEqual({ view: 'restriction.notice', senderAddress: 'alice@contoso.com', restrictionId: alice().id });
  });
});

describe('outbound spam policies', () => {
  it('lists policies in the order they apply, with limits, service defaults and actions', () => {
    expect(cardText(policiesCard({ policies: policies(), serviceLimits, now }))).toMatchInlineSnapshot(`
      "Sendguard
      Outbound spam policies
      The first enabled policy that matches a sender applies; the default policy applies to everyone else. As of 2026-11-26 14:03 UTC.
      Marketing senders  Priority 0
      Applies to: members of marketing@contoso.com; except senders intern@contoso.com
      External limit: 2,000 recipients per hour
      Internal limit: 5,000 recipients per hour
      Daily limit: 8,000 recipients per day
      Action: No action, alert only
      Notify: secops@contoso.com
      Executives  Priority 1 · Off
      Applies to: senders ceo@contoso.com, cfo@contoso.com
      External limit: 300 recipients per hour
      Internal limit: 1,000 recipients per hour
      Daily limit: 2,000 recipients per day
      Action: Restrict the user from sending mail
      Notify: secops@contoso.com, ciso@contoso.com
      Default  Default policy, lowest priority
      Applies to: Everyone not covered by another policy
      External limit: 100 recipients per hour
      Internal limit: 10,000 recipients per hour (service default)
      Daily limit: 10,000 recipients per day (service default)
      Action: Restrict the user from sending mail until the following day
      Notify: Nobody besides the alert policy"
    `);
  });
});

describe('refusals', () => {
  it.each<RefusalReason>(['NOT_TEAMS', 'UNKNOWN_TENANT', 'NO_ROLE'])('refuses politely for %s and shows no data or actions', (reason) => {
    const card = refusalCard({ reason });
    expect(cardText(card)).not.toMatch(/@|contoso/);
    expect(actionLines(card)).toEqual([]);
    expect(card.refresh).toBeUndefined();
  });

  it('names the roles that give access', () => {
    expect(cardText(refusalCard({ reason: 'NO_ROLE' }))).toMatchInlineSnapshot(`
      "Sendguard
      You don't have access to restricted users
      To view restricted users you need the Global Reader, Security Reader or View-Only Organization Management role. To unblock them you need the Global Administrator, Security Administrator or Organization Management role. Ask your admin to assign you one."
    `);
  });
});
