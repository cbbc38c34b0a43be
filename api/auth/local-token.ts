import { SignJWT } from 'jose';
import type { SigningKey } from './signing-key.ts';

export interface LocalTokenClaims {
  tenantId: string;
  principalId: string;
  name?: string | undefined;
  roles: string[];
  /** The bot acting for the admin who clicked: the API authorises that admin, not the bot. */
  act?: { sub: string; name?: string; roles?: string[] } | undefined;
}

/** Signs a token with Sendguard's own key, for this deployment's issuer and audience. */
export async function mintLocalToken(
  key: SigningKey,
  audience: { issuer: string; audience: string },
  claims: LocalTokenClaims,
  options: { expiresInSeconds?: number; now?: Date } = {},
): Promise<string> {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ tid: claims.tenantId, oid: claims.principalId, name: claims.name ?? claims.principalId, roles: claims.roles, ...(claims.act ? { act: claims.act } : {}) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(audience.issuer)
    .setAudience(audience.audience)
    .setSubject(claims.principalId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.expiresInSeconds ?? 3600))
    .sign(key.privateKey);
}
