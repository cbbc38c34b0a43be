import type {
  OutboundSpamPolicy,
  Recommendation,
  RestrictedUser,
  RestrictedUserPage,
  ServiceLimits,
  Viewer,
} from '../../../bot/cards/types.ts';
import { recommendations as domainRecommendations } from '../../../domain/restrictions/recommendations.ts';

/** Realistic card inputs: what the GraphQL API returns for a tenant with a few restricted senders. */

export const now = new Date('2026-11-26T14:03:00Z');

export const manager: Viewer = { displayName: 'Megan Bowen', canManage: true };
export const reader: Viewer = { displayName: 'Adele Vance', canManage: false };

/** The API serves the domain's recommendations; the cards get them as data. */
export const recommendations: Recommendation[] = domainRecommendations.map((r) => ({ ...r }));

export function alice(overrides: Partial<RestrictedUser> = {}): RestrictedUser {
  return {
    id: '5b0f9a52-6f3e-4d1c-9a4e-2f1d3c7b8e01',
    senderAddress: 'alice@contoso.com',
    reason: 'Sent to more than 100 external recipients within an hour, the external message limit of the Default policy.',
    reasonCode: 'SendingLimitExceeded',
    exceededLimit: 'RecipientLimitExternalPerHour',
    limitValue: 100,
    internalRecipientCount: 12,
    externalRecipientCount: 100,
    policyName: 'Default',
    restrictedAt: '2026-11-26T11:47:12Z',
    changedAt: '2026-11-26T11:47:12Z',
    expiresAt: '2026-11-27T00:00:00Z',
    temporary: true,
    status: 'RESTRICTED',
    releases: [],
    history: [
      {
        id: 'a4d1e0c2-1b7f-4f55-8c0e-6e2b9d3f4a10',
        reason: 'Sent to more than 100 external recipients within an hour.',
        reasonCode: 'SendingLimitExceeded',
        restrictedAt: '2026-10-14T09:12:40Z',
        changedAt: '2026-10-14T15:20:03Z',
        expiresAt: '2026-10-15T00:00:00Z',
        temporary: true,
        status: 'RELEASED',
        releases: [
          {
            releasedAt: '2026-10-14T15:20:03Z',
            releasedBy: 'Megan Bowen',
            reason: 'Newsletter sent from a personal mailbox; moved to the bulk mail service.',
            acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD'],
          },
        ],
      },
      {
        id: 'c7e2f1a9-3d4b-4e6f-9a1b-0c2d3e4f5a6b',
        reason: 'Sent to more than 10,000 recipients in 24 hours, the service limit.',
        reasonCode: 'ServiceRecipientLimit',
        restrictedAt: '2026-09-03T16:30:00Z',
        changedAt: '2026-09-04T00:00:00Z',
        expiresAt: '2026-09-04T00:00:00Z',
        temporary: true,
        status: 'EXPIRED',
        releases: [],
      },
    ],
    ...overrides,
  };
}

export function releasedAlice(): RestrictedUser {
  return alice({
    status: 'RELEASED',
    changedAt: '2026-11-26T14:05:31Z',
    releases: [
      {
        releasedAt: '2026-11-26T14:05:31Z',
        releasedBy: 'Megan Bowen',
        reason: 'Phishing confirmed; password reset and MFA enabled.',
        acknowledgedRecommendations: ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS'],
      },
    ],
  });
}

export function expiredAlice(): RestrictedUser {
  return alice({ status: 'EXPIRED', changedAt: '2026-11-27T00:00:00Z' });
}

export function compromisedSender(): RestrictedUser {
  return alice({
    id: '0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b',
    senderAddress: 'finance-reports@contoso.com',
    reason: 'Signed in from an unfamiliar country and sent a burst of messages with the same attachment; looks compromised.',
    reasonCode: 'SuspectedCompromise',
    exceededLimit: null,
    limitValue: null,
    internalRecipientCount: 48,
    externalRecipientCount: 310,
    policyName: null,
    restrictedAt: '2026-11-25T22:10:00Z',
    changedAt: '2026-11-25T22:10:00Z',
    expiresAt: null,
    temporary: false,
    history: [],
  });
}

export function restrictedPage(): RestrictedUserPage {
  const bob = alice({
    id: '7f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
    senderAddress: 'bob.lee@contoso.com',
    reason: 'Sent to more than 10,000 recipients in 24 hours, the service limit; this clears by itself.',
    reasonCode: 'ServiceRecipientLimit',
    exceededLimit: 'ServiceRecipientsPerDay',
    limitValue: 10000,
    restrictedAt: '2026-11-26T09:15:00Z',
    expiresAt: '2026-11-27T09:15:00Z',
  });
  const manual = alice({
    id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
    senderAddress: 'j.smith@contoso.com',
    reason: 'Restricted by Megan Bowen: mailbox reported in a phishing campaign.',
    reasonCode: 'ManualBlock',
    exceededLimit: null,
    limitValue: null,
    restrictedAt: '2026-11-24T08:00:00Z',
    expiresAt: null,
    temporary: false,
  });
  return {
    nodes: [alice(), bob, compromisedSender(), manual],
    pageInfo: { hasNextPage: true, hasPreviousPage: true, startCursor: 'Y3Vyc29yOjEw', endCursor: 'Y3Vyc29yOjEz' },
    totalCount: 14,
  };
}

export const serviceLimits: ServiceLimits = { recipientLimitExternalPerHour: 500, recipientLimitInternalPerHour: 10000, recipientLimitPerDay: 10000 };

export function policies(): OutboundSpamPolicy[] {
  const none = { from: [], fromMemberOf: [], senderDomainIs: [], exceptIfFrom: [], exceptIfFromMemberOf: [], exceptIfSenderDomainIs: [] };
  return [
    {
      name: 'Default',
      isDefault: true,
      enabled: true,
      priority: null,
      recipientLimitExternalPerHour: 100,
      recipientLimitInternalPerHour: 0,
      recipientLimitPerDay: 0,
      actionWhenThresholdReached: 'BlockUserForToday',
      notify: [],
      conditions: null,
    },
    {
      name: 'Marketing senders',
      isDefault: false,
      enabled: true,
      priority: 0,
      recipientLimitExternalPerHour: 2000,
      recipientLimitInternalPerHour: 5000,
      recipientLimitPerDay: 8000,
      actionWhenThresholdReached: 'Alert',
      notify: ['secops@contoso.com'],
      conditions: { ...none, fromMemberOf: ['marketing@contoso.com'], exceptIfFrom: ['intern@contoso.com'] },
    },
    {
      name: 'Executives',
      isDefault: false,
      enabled: false,
      priority: 1,
      recipientLimitExternalPerHour: 300,
      recipientLimitInternalPerHour: 1000,
      recipientLimitPerDay: 2000,
      actionWhenThresholdReached: 'BlockUser',
      notify: ['secops@contoso.com', 'ciso@contoso.com'],
      conditions: { ...none, from: ['ceo@contoso.com', 'cfo@contoso.com'] },
    },
  ];
}
