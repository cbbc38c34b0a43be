import { z } from 'zod';
import { typedDocument } from './graphql-client.ts';
import { apiUserDetails, apiViewer, detailsFields, viewerFields } from './restriction-fields.ts';

const data = z.object({
  viewer: apiViewer,
  unblockSettings: z.object({ tenant: z.object({ requireSecondApproval: z.boolean() }) }),
  restrictedUser: apiUserDetails.nullable(),
});

/** A sender's active restriction, else its latest one, with history, recommendations and the unblock quota (and whether a second admin may release past it). */
export const restrictedUserQuery = typedDocument<z.output<typeof data>, { senderAddress: string }>(
  'BotRestrictedUser',
  `query BotRestrictedUser($senderAddress: String!) {
  ${viewerFields}
  unblockSettings: viewer { tenant { requireSecondApproval } }
  restrictedUser(senderAddress: $senderAddress) { ${detailsFields} }
}`,
  data,
);
