import { z } from 'zod';
import { recognizeRole } from '../../domain/roles/role-catalog.ts';
import { typedDocument } from './graphql-client.ts';

/** The admin as the API sees them, for changes the bot records itself (restriction notices). */
export interface AdminViewer {
  name: string;
  /** Role names as the API grants them (`Security Administrator`), as the audit log records roles. */
  roles: string[];
  canManage: boolean;
}

// The API spells roles as enum values (SECURITY_ADMINISTRATOR); the audit log keeps the catalog's names.
const data = z
  .object({ viewer: z.object({ name: z.string(), roles: z.array(z.string()), scopes: z.array(z.string()) }) })
  .transform(({ viewer }): AdminViewer => ({ name: viewer.name, roles: viewer.roles.map((r) => recognizeRole(r) ?? r), canManage: viewer.scopes.includes('MANAGE') }));

export const viewerQuery = typedDocument<z.output<typeof data>>('BotViewer', 'query BotViewer { viewer { name roles scopes } }', data);
