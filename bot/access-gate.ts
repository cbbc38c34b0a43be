import type { RoleService } from '../domain/roles/role-service.ts';
import type { RefusalReason } from './cards/types.ts';
import type { TeamsAdmin } from './graphql/bot-tokens.ts';
import type { IncomingActivity } from './incoming-activity.ts';

export type GateDecision = { allowed: true; tenantId: string; admin: TeamsAdmin } | { allowed: false; reason: RefusalReason };

export const teamsChannelId = 'msteams';

/**
 * Decides, before anything is read, whether the bot answers an activity: it must come from Teams,
 * from a tenant Sendguard serves (and, when configured, one of the allowed tenants), and from a
 * user holding a Sendguard role there. The API checks the same roles again on every request.
 */
export function createAccessGate(deps: { allowedTenants: readonly string[]; roles: Pick<RoleService, 'access'> }) {
  const allowed = new Set(deps.allowedTenants.map((t) => t.toLowerCase()));
  return {
    async check(activity: IncomingActivity): Promise<GateDecision> {
      if (activity.channelId !== teamsChannelId) return { allowed: false, reason: 'NOT_TEAMS' };
      const tenantId = activity.tenantId;
      if (!tenantId || (allowed.size > 0 && !allowed.has(tenantId.toLowerCase()))) return { allowed: false, reason: 'UNKNOWN_TENANT' };
      const objectId = activity.from.aadObjectId;
      const access = await deps.roles.access(tenantId, objectId ? [objectId] : []);
      if (!access.tenantExists) return { allowed: false, reason: 'UNKNOWN_TENANT' };
      if (!objectId || access.roles.length === 0) return { allowed: false, reason: 'NO_ROLE' };
      // The tenant as stored from here on: its conversations, notices and API calls are under that id.
      return { allowed: true, tenantId: access.tenantId, admin: { id: objectId, name: activity.from.name || objectId } };
    },
    /** The tenant as stored, whoever sent the activity (a removal needs no role); null when not served here. */
    async storedTenantId(tenantId: string): Promise<string | null> {
      const access = await deps.roles.access(tenantId, []);
      return access.tenantExists ? access.tenantId : null;
    },
  };
}

export type AccessGate = ReturnType<typeof createAccessGate>;
