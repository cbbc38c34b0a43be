import { z } from 'zod';
import { typedDocument } from './graphql-client.ts';
import { apiUserDetails, apiViewer, detailsFields, viewerFields } from './restriction-fields.ts';

const data = z.object({ viewer: apiViewer, restrictedUser: apiUserDetails.nullable() });

/** A sender's active restriction, else its latest one, with history and recommendations. */
export const restrictedUserQuery = typedDocument<z.output<typeof data>, { senderAddress: string }>(
  'BotRestrictedUser',
  `query BotRestrictedUser($senderAddress: String!) {
  ${viewerFields}
  restrictedUser(senderAddress: $senderAddress) { ${detailsFields} }
}`,
  data,
);
