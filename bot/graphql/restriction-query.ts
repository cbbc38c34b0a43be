import { z } from 'zod';
import { typedDocument } from './graphql-client.ts';
import { apiUser, userFields } from './restriction-fields.ts';

const data = z.object({ node: apiUser.nullable() });

/** One restriction by its id, whatever its state now (notices are about one restriction, not the latest). */
export const restrictionQuery = typedDocument<z.output<typeof data>, { id: string }>(
  'BotRestriction',
  `query BotRestriction($id: ID!) {
  node(id: $id) { ... on RestrictedUser { ${userFields} } }
}`,
  data,
);

/** The API's id of a user restriction (a Relay global id), from the restriction's row id in events. */
export function restrictedUserId(restrictionRowId: string): string {
  return Buffer.from(`RestrictedUser:${restrictionRowId}`, 'utf8').toString('base64');
}

/** The restriction's row id inside a Relay global id, or null when it names something else. */
export function restrictionRowId(restrictedUserGlobalId: string): string | null {
  const decoded = Buffer.from(restrictedUserGlobalId, 'base64').toString('utf8');
  const match = /^RestrictedUser:([0-9a-f-]{36})$/i.exec(decoded);
  return match?.[1] ?? null;
}
