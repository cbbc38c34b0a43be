import type { Actor } from '../../domain/actor.ts';
import { recognizeRole, roleForEntraTemplateId, roleNames, scopesOf, type RoleName, type Scope } from '../../domain/roles/role-catalog.ts';
import type { RoleService } from '../../domain/roles/role-service.ts';
import { AuthenticationError, type TokenVerifier, type VerifiedToken } from './verify-token.ts';

/**
 * The authenticated caller: tenant from the token only, roles from claims and stored assignments.
 * A principal acting through Sendguard's own token (`act`) has only its stored assignments.
 */
export interface Viewer {
  tenantId: string;
  principalId: string;
  name: string;
  roles: RoleName[];
  scopes: Scope[];
  /** The bot's principal when it acts for the admin who clicked (`act` claim). */
  actingThrough: string | null;
  expiresAt: Date;
  /** Every id the principal's roles may be stored under, and the roles its token grants: to look its roles up again. */
  principalIds: readonly string[];
  claimedRoles: readonly RoleName[];
}

interface Identity {
  principalId: string;
  /** Every id the principal may be stored under (object id, subject, user principal name). */
  principalIds: string[];
  name: string;
  /** Roles the token grants; an `act` actor's claimed roles are ignored (its stored ones count). */
  claimedRoles: RoleName[];
  actingThrough: string | null;
}

function known(values: readonly string[] | undefined, recognize: (value: string) => RoleName | undefined): RoleName[] {
  return (values ?? []).map(recognize).filter((r): r is RoleName => r !== undefined);
}

function identityOf({ source, claims }: VerifiedToken): Identity {
  if (source === 'local' && claims.act) {
    const { act } = claims;
    // The token vouches only for who clicked; what they may do is what this tenant stored for them.
    return { principalId: act.sub, principalIds: [act.sub], name: act.name ?? act.sub, claimedRoles: [], actingThrough: claims.sub ?? null };
  }
  const principalId = claims.oid ?? claims.sub;
  if (!principalId) throw new AuthenticationError('invalid_token', 'the token names no principal (oid or sub)');
  const principalIds = [claims.oid, claims.sub, claims.preferred_username, claims.upn].filter((p): p is string => Boolean(p));
  const claimedRoles = [...known(claims.roles, recognizeRole), ...known(claims.wids, roleForEntraTemplateId), ...known(claims.groups, recognizeRole)];
  return { principalId, principalIds, name: claims.name ?? claims.preferred_username ?? principalId, claimedRoles, actingThrough: null };
}

/** Turns an `Authorization` header into a Viewer, or throws AuthenticationError (→ 401). */
export function createAuthenticator(deps: { verify: TokenVerifier; roles: Pick<RoleService, 'access'> }) {
  return async function authenticate(authorization: string | null | undefined): Promise<Viewer> {
    if (!authorization) throw new AuthenticationError(undefined, 'a bearer token is required');
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AuthenticationError('invalid_request', 'the Authorization header must be "Bearer <token>"');
    const verified = await deps.verify(match[1]);
    const identity = identityOf(verified);
    const viewer: Viewer = {
      tenantId: verified.claims.tid,
      principalId: identity.principalId,
      name: identity.name,
      roles: [],
      scopes: [],
      actingThrough: identity.actingThrough,
      expiresAt: new Date(verified.claims.exp * 1000),
      principalIds: identity.principalIds,
      claimedRoles: identity.claimedRoles,
    };
    return withStoredRoles(deps.roles, viewer);
  };
}

/**
 * The viewer with the roles stored for its principal now (reused for up to ROLE_CACHE_MS, dropped
 * as soon as a change is known) added to those its token grants. A long-lived subscription asks
 * again with it, so a role removed meanwhile stops counting.
 */
export async function withStoredRoles(roles: Pick<RoleService, 'access'>, viewer: Viewer): Promise<Viewer> {
  const access = await roles.access(viewer.tenantId, viewer.principalIds);
  if (!access.tenantExists) throw new AuthenticationError('invalid_token', "the token's tenant is not served here");
  const granted = new Set([...viewer.claimedRoles, ...access.roles]);
  const held = roleNames.filter((r) => granted.has(r));
  // The tenant as stored: an Entra token's tid is lower-case, the id may have been configured otherwise.
  return { ...viewer, tenantId: access.tenantId, roles: held, scopes: scopesOf(held) };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** RFC 6750 challenge for a failed authentication. */
export function bearerChallenge(err: AuthenticationError): string {
  const quoted = (v: string) => v.replace(/["\\]/g, '');
  const parts = ['realm="sendguard"'];
  if (err.error) parts.push(`error="${err.error}"`, `error_description="${quoted(err.message)}"`);
  return `Bearer ${parts.join(', ')}`;
}

export function actorOf(viewer: Viewer): Actor {
  return { kind: 'user', id: viewer.principalId, name: viewer.name, roles: viewer.roles, source: viewer.actingThrough ? 'bot' : 'graphql' };
}
