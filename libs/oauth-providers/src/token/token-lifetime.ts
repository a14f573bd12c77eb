import type { AccessToken, TokenGrant } from '../interfaces/access-token.interface.js';

/**
 * How long a token lives, from the provider's `expires_in` (seconds for every provider we know,
 * Sabre included). A missing, zero, negative, non-finite or non-numeric value is not trusted:
 * the default lifetime applies. Any lifetime is capped at `maxTtlMs`.
 */
export function lifetimeMs(expiresIn: unknown, defaultTtlMs: number, maxTtlMs: number): number {
  let seconds: number | undefined;
  if (typeof expiresIn === 'number') seconds = expiresIn;
  else if (typeof expiresIn === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(expiresIn)) seconds = Number(expiresIn);
  const ms = seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultTtlMs;
  return Math.min(ms, maxTtlMs);
}

/**
 * The instant a token stops being handed out. Normally `expiresAt - skew`; for tokens whose whole
 * life is shorter than twice the skew (5-second test tokens against a 60-second skew) the skew is
 * reduced to half the lifetime, otherwise such a token would never count as valid and every call
 * would fetch a new one.
 */
export function validUntil(token: Pick<AccessToken, 'expiresAt' | 'obtainedAt'>, skewMs: number): number {
  const life = token.expiresAt - token.obtainedAt;
  return token.expiresAt - Math.min(skewMs, Math.max(0, life / 2));
}

export function isValid(token: AccessToken | undefined, now: number, skewMs: number): token is AccessToken {
  return token !== undefined && now < validUntil(token, skewMs);
}

/** `token_type` casing varies between providers (`bearer`, `Bearer`): we always send `Bearer`. */
export function normaliseTokenType(tokenType: string | undefined): string {
  return !tokenType || tokenType.toLowerCase() === 'bearer' ? 'Bearer' : tokenType;
}

export function toAccessToken(
  provider: string,
  grant: TokenGrant,
  now: number,
  limits: { defaultTtlMs: number; maxTtlMs: number; minRequestIntervalMs: number },
  previousRefreshToken?: string,
): AccessToken {
  // No renewal may start sooner anyway: a shorter life would only leave callers without a token.
  const lifeMs = Math.min(
    Math.max(lifetimeMs(grant.expiresIn, limits.defaultTtlMs, limits.maxTtlMs), limits.minRequestIntervalMs),
    limits.maxTtlMs,
  );
  return {
    provider,
    accessToken: grant.accessToken,
    tokenType: normaliseTokenType(grant.tokenType),
    obtainedAt: now,
    expiresAt: now + lifeMs,
    ...(grant.scope !== undefined && { scope: grant.scope }),
    // A refresh answer without a new refresh token keeps the old one (Pay-me does this).
    ...((grant.refreshToken ?? previousRefreshToken) !== undefined && {
      refreshToken: grant.refreshToken ?? previousRefreshToken,
    }),
  };
}
