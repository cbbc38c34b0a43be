import { mintLocalToken } from '../../api/auth/local-token.ts';
import type { SigningKey } from '../../api/auth/signing-key.ts';

/** The Teams user who clicked, as Teams names them (Entra object id and display name). */
export interface TeamsAdmin {
  id: string;
  name: string;
}

/**
 * Who the bot asks the API as: the admin who clicked (the API authorises that admin's own roles),
 * or, with no admin, the bot itself reading for a proactive notice with a read-only role.
 */
export interface Caller {
  tenantId: string;
  admin: TeamsAdmin | null;
}

/** The role the bot claims when it reads for a notice nobody clicked; it grants read only. */
export const noticeReaderRole = 'Global Reader';
const lifetimeSeconds = 120;

/**
 * Short-lived tokens signed with Sendguard's own key, carrying the admin as `act`. They are timed by
 * the wall clock, not the domain clock: the API checks their expiry against the wall clock.
 */
export function createBotTokens(deps: { key: SigningKey; issuer: string; audience: string; botPrincipalId: string }) {
  return {
    forCaller(caller: Caller): Promise<string> {
      const claims = caller.admin
        ? { tenantId: caller.tenantId, principalId: deps.botPrincipalId, name: 'Sendguard bot', roles: [], act: { sub: caller.admin.id, name: caller.admin.name } }
        : { tenantId: caller.tenantId, principalId: deps.botPrincipalId, name: 'Sendguard bot', roles: [noticeReaderRole] };
      return mintLocalToken(deps.key, { issuer: deps.issuer, audience: deps.audience }, claims, { expiresInSeconds: lifetimeSeconds });
    },
  };
}

export type BotTokens = ReturnType<typeof createBotTokens>;
