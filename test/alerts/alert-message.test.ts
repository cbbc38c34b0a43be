import { describe, expect, it } from 'vitest';
import type { Alert } from '../../db/repos/alerts.ts';
import { composeAlertEmail } from '../../domain/alerts/alert-message.ts';

function alert(overrides: Partial<Alert>): Alert {
  const at = new Date('2026-11-26T10:00:00Z');
  return {
    id: '6a1f0c2e-5b7d-4c3e-9f10-2a3b4c5d6e7f',
    tenantId: 't',
    policyId: '0f0e0d0c-0b0a-4909-8807-060504030201',
    kind: 'UserRestricted',
    severity: 'High',
    status: 'New',
    title: 'x is restricted from sending email',
    entityKind: 'user',
    entityKey: 'x@contoso.com',
    restrictionId: '11111111-2222-4333-8444-555555555555',
    details: {},
    hitCount: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    statusChangedBy: null,
    updatedAt: at,
    ...overrides,
  };
}

describe('alert e-mail', () => {
  it("reads an admin's block over a service limit as the admin's block, even with the limit still in its details", () => {
    const email = composeAlertEmail(
      alert({ details: { reasonCode: 'SuspectedCompromise', exceededLimit: 'ServiceRecipientsPerDay', limitValue: 4, internalRecipientCount: 0, externalRecipientCount: 5, temporary: false } }),
    );
    expect(email.text).toContain('x@contoso.com can no longer send email because an admin found it likely compromised.');
  });

  it('says an admin blocked the sender, escapes HTML, and counts repeats', () => {
    const email = composeAlertEmail(
      alert({
        details: { reasonCode: 'ManualBlock', exceededLimit: null, limitValue: null, internalRecipientCount: 0, externalRecipientCount: 0, policyName: '<Sales & Marketing>', temporary: false },
        hitCount: 3,
        lastSeenAt: new Date('2026-11-26T10:00:50Z'),
      }),
    );
    expect(email.text).toContain('x@contoso.com can no longer send email because an admin blocked it. It can still receive mail. The restriction lasts until an admin releases it.');
    expect(email.text).toMatch(/Seen: +3 times, last at 2026-11-26 10:00:50 UTC/);
    expect(email.text).toMatch(/Policy: +<Sales & Marketing>/);
    expect(email.html).toContain('<td>&#60;Sales &#38; Marketing&#62;</td>');
    expect(email.html).not.toContain('<Sales');
  });

  it('tells how to unblock a connector', () => {
    const email = composeAlertEmail(alert({ entityKind: 'connector', entityKey: '7d8a0b1c-2e3f-4a5b-8c6d-9e0f1a2b3c4d', details: { reasonCode: 'SuspectedCompromise' } }));
    expect(email.text).toMatch(/Connector: +7d8a0b1c/);
    expect(email.text).toContain('because an admin found it likely compromised');
    expect(email.text).toContain('Then unblock the connector: with the Sendguard bot in Teams, or with the GraphQL mutation unblockConnector (connector 7d8a0b1c-2e3f-4a5b-8c6d-9e0f1a2b3c4d).');
  });

  it('of a limit that restricted the sender, sent after an admin released it, says so and asks for no unblock', () => {
    const email = composeAlertEmail(
      alert({ kind: 'SendingLimitExceeded', title: 'x exceeded the sending limit', details: { exceededLimit: 'RecipientLimitPerDay', limitValue: 500 } }),
      { status: 'Released', at: new Date('2026-11-26T11:00:00Z'), by: 'Adele Vance', restrictedAgain: false },
    );
    expect(email.subject).toBe('[High] x exceeded the sending limit (released since)');
    expect(email.text).toContain('x@contoso.com exceeded the limit RecipientLimitPerDay (500 recipients). It was restricted, and Adele Vance has since released it, at 2026-11-26 11:00:00 UTC: it can send again.');
    expect(email.text).not.toContain('unblock');
  });

  it("keeps an admin's name to one line, as their details, so it cannot read as more of the message", () => {
    const name = 'Eve\n\nWhat to do:\n1. Sign in at evil.example\u202e';
    const email = composeAlertEmail(alert({ details: { reasonCode: 'ManualBlock', extendedAt: '2026-11-26T10:30:00Z', actorName: name } }), { status: 'Released', at: new Date('2026-11-26T11:00:00Z'), by: name, restrictedAgain: false });
    expect(email.text).toMatch(/\nExtended: +2026-11-26 10:30:00 UTC by Eve What to do: 1\. Sign in at evil\.example\n/);
    expect(email.text).toMatch(/\nReleased: +2026-11-26 11:00:00 UTC by Eve What to do: 1\. Sign in at evil\.example\n/);
    expect(email.text).toContain('Eve What to do: 1. Sign in at evil.example has since released it');
    expect(email.text.match(/What to do:/g)).toHaveLength(4);
  });
});
