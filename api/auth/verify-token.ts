import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../../config/load-config.ts';
import type { SigningKey } from './signing-key.ts';

/** Why a request is not authenticated; becomes a 401 with `WWW-Authenticate`. */
export class AuthenticationError extends Error {
  constructor(
    /** RFC 6750 error code; undefined when no token was sent. */
    readonly error: 'invalid_token' | 'invalid_request' | undefined,
    description: string,
  ) {
    super(description);
  }
}

// No control characters (NUL, DEL, C1) in a claim: the names and ids end up in queries, audit
// entries and logs, and PostgreSQL cannot even take a NUL.
// eslint-disable-next-line no-control-regex
const text = z.string().regex(/^[^\x00-\x1f\x7f-\x9f]*$/);
const stringList = z.array(text).max(500);

/** The last second of year 9999: a later `exp` is no time the API can show (`tokenExpiresAt`) or wait for. */
const LAST_EXP = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

/**
 * A verified token is reused for at most this long (and never past its expiry), and the issuer's
 * JWKS is fetched again when older than this on the next verification that needs it (jose's own
 * default is 10 minutes). So a key removed from the JWKS is refused within twice this.
 */
const REFRESH_MS = 60_000;
const VERIFIED_ENTRIES = 10_000;

const claimsSchema = z.object({
  tid: text.min(1).max(64),
  sub: text.min(1).optional(),
  oid: text.min(1).optional(),
  name: text.optional(),
  preferred_username: text.optional(),
  upn: text.optional(),
  roles: stringList.optional(),
  wids: stringList.optional(),
  groups: stringList.optional(),
  act: z.object({ sub: text.min(1), name: text.optional(), roles: stringList.optional() }).optional(),
  exp: z.number().max(LAST_EXP),
});

export type TokenClaims = z.infer<typeof claimsSchema>;

export interface VerifiedToken {
  /** `local`: Sendguard's own key; `oidc`: the external OpenID Connect issuer. */
  source: 'local' | 'oidc';
  claims: TokenClaims;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not accepted`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's signature algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (err instanceof errors.JWKSNoMatchingKey) return "no key of the token's issuer matches it";
  return 'the token is not valid';
}

/**
 * Verifies bearer tokens from Sendguard's own key or the configured OpenID Connect issuer. The
 * issuer claim only chooses the key set; signature, algorithm, issuer, audience and expiry are
 * always checked against that choice.
 */
export function createTokenVerifier(deps: { auth: Config['auth']; localKey: SigningKey; refreshMs?: number }) {
  const { auth, localKey } = deps;
  const refreshMs = deps.refreshMs ?? REFRESH_MS;
  const remote: JWTVerifyGetKey | undefined = auth.oidc
    ? createRemoteJWKSet(new URL(auth.oidc.jwksUrl), { cacheMaxAge: refreshMs, cooldownDuration: Math.min(30_000, refreshMs) })
    : undefined;

  async function verifyWith(token: string, issuer: string): Promise<VerifiedToken> {
    if (issuer === auth.tokenIssuer) {
      const { payload } = await jwtVerify(token, localKey.publicKey, { issuer: auth.tokenIssuer, audience: auth.tokenAudience, algorithms: [localKey.alg], requiredClaims: ['exp', 'sub'] });
      return { source: 'local', claims: parseClaims(payload) };
    }
    if (auth.oidc && remote && issuer === auth.oidc.issuer) {
      const { payload } = await jwtVerify(token, remote, { issuer: auth.oidc.issuer, audience: auth.oidc.audience, algorithms: auth.oidc.algorithms, requiredClaims: ['exp'] });
      return { source: 'oidc', claims: parseClaims(payload) };
    }
    throw new AuthenticationError('invalid_token', "the token's issuer is not accepted");
  }

  // A token verified once is the same token until it expires: reuse the result for a while rather than
  // checking its signature on every request. Failures are not kept.
  const verified = new Map<string, { until: number; token: VerifiedToken }>();

  return async function verify(token: string): Promise<VerifiedToken> {
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && hit.until > now) return hit.token;
    if (hit) verified.delete(token);
    const result = await verifyUncached(token);
    if (verified.size >= VERIFIED_ENTRIES) verified.delete(verified.keys().next().value as string);
    verified.set(token, { until: Math.min(result.claims.exp * 1000, now + refreshMs), token: result });
    return result;
  };

  async function verifyUncached(token: string): Promise<VerifiedToken> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AuthenticationError('invalid_token', 'the token is not a JWT');
    }
    try {
      return await verifyWith(token, issuer ?? '');
    } catch (err) {
      if (err instanceof AuthenticationError) throw err;
      throw new AuthenticationError('invalid_token', describe(err));
    }
  }
}

function parseClaims(payload: JWTPayload): TokenClaims {
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) throw new AuthenticationError('invalid_token', `the token's ${parsed.error.issues[0]?.path.join('.') || 'claims'} claim is not valid`);
  return parsed.data;
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
