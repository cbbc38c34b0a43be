import { z } from 'zod';
import type { RecommendationKind } from '../cards/types.ts';
import { typedDocument } from './graphql-client.ts';
import { apiRelease, releaseFields } from './restriction-fields.ts';

export interface UnblockUserVariables {
  /** `restrictionId`: release only if this is still the active restriction (the card's own). */
  input: { senderAddress: string; reason: string; acknowledgedRecommendations: RecommendationKind[]; restrictionId?: string };
}

const result = z.discriminatedUnion('__typename', [
  z.object({
    __typename: z.literal('UnblockUserSuccess'),
    restrictedUser: z.object({ senderAddress: z.string(), releasedAt: z.string().nullable(), status: z.string(), releases: z.array(apiRelease) }),
  }),
  z.object({ __typename: z.literal('NotRestrictedError'), entityKey: z.string(), message: z.string() }),
  z.object({ __typename: z.literal('RestrictionChangedError'), senderAddress: z.string(), message: z.string() }),
  z.object({
    __typename: z.literal('UnblockQuotaExceededError'),
    senderAddress: z.string(),
    releaseCount: z.number().int(),
    maxReleases: z.number().int(),
    windowDays: z.number().int(),
    resetsAt: z.string(),
  }),
  z.object({ __typename: z.literal('SecondApprovalRequiredError'), senderAddress: z.string(), requestedBy: z.string(), requestedAt: z.string() }),
  z.object({ __typename: z.literal('ValidationError'), field: z.string(), message: z.string() }),
]);

const data = z.object({ unblockUser: result });
export type UnblockUserResult = z.output<typeof result>;

/** Releases a sender; the API answers one of the typed results (authorisation failures are top-level). */
export const unblockUserMutation = typedDocument<z.output<typeof data>, UnblockUserVariables>(
  'BotUnblockUser',
  `mutation BotUnblockUser($input: UnblockUserInput!) {
  unblockUser(input: $input) {
    __typename
    ... on UnblockUserSuccess { restrictedUser { senderAddress releasedAt status releases { ${releaseFields} } } }
    ... on NotRestrictedError { entityKey message }
    ... on RestrictionChangedError { senderAddress message }
    ... on UnblockQuotaExceededError { senderAddress releaseCount maxReleases windowDays resetsAt }
    ... on SecondApprovalRequiredError { senderAddress requestedBy requestedAt }
    ... on ValidationError { field message }
  }
}`,
  data,
);
