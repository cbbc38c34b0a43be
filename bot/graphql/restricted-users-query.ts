import { z } from 'zod';
import type { RestrictedUserPage } from '../cards/types.ts';
import { typedDocument } from './graphql-client.ts';
import { apiReasonCode, apiStatus, apiViewer, viewerFields } from './restriction-fields.ts';

export interface RestrictedUsersVariables {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
  search?: string;
}

const row = z.object({
  id: z.string(),
  senderAddress: z.string(),
  reason: z.string(),
  reasonCode: apiReasonCode,
  restrictedAt: z.string(),
  expiresAt: z.string().nullable(),
  temporary: z.boolean(),
  status: apiStatus,
});

const page = z
  .object({
    totalCount: z.number().int(),
    pageInfo: z.object({ hasNextPage: z.boolean(), hasPreviousPage: z.boolean(), startCursor: z.string().nullable(), endCursor: z.string().nullable() }),
    edges: z.array(z.object({ node: row })),
  })
  .transform((p): RestrictedUserPage => ({ totalCount: p.totalCount, pageInfo: p.pageInfo, nodes: p.edges.map((e) => e.node) }));

const data = z.object({ viewer: apiViewer, restrictedUsers: page });

/** The Restricted users list (active restrictions, newest first), one page. */
export const restrictedUsersQuery = typedDocument<z.output<typeof data>, RestrictedUsersVariables>(
  'BotRestrictedUsers',
  `query BotRestrictedUsers($first: Int, $after: String, $last: Int, $before: String, $search: String) {
  ${viewerFields}
  restrictedUsers(first: $first, after: $after, last: $last, before: $before, filter: { search: $search }) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id senderAddress reason reasonCode restrictedAt expiresAt temporary status } }
  }
}`,
  data,
);
