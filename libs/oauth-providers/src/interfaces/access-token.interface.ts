import type { OAuthProviderErrorKind } from '../errors/oauth-provider.error.js';

/** A token as the service caches and hands out. Times are epoch milliseconds. */
export interface AccessToken {
  provider: string;
  accessToken: string;
  /** Normalised: `Bearer` whatever casing the provider used. */
  tokenType: string;
  expiresAt: number;
  obtainedAt: number;
  scope?: string;
  refreshToken?: string;
}

/**
 * What a strategy read from a successful token answer, before the service applies
 * the lifetime rules. `expiresIn` is passed through as the provider sent it
 * (number, string, missing...): the service alone decides what to trust.
 */
export interface TokenGrant {
  accessToken: string;
  tokenType?: string;
  expiresIn?: unknown;
  scope?: string;
  refreshToken?: string;
}

/**
 * Every state `status()` reports, in one list (metrics publish one series per state):
 * `empty` no token yet; `expired` a token past its validity; `failing` the last renewal failed and
 * no valid token is left; `cooling_down` credentials refused, not asked again until `cooldownUntil`;
 * `circuit_open` repeated failures, calls fail fast until `circuitOpenUntil`.
 */
export const PROVIDER_TOKEN_STATES = ['empty', 'valid', 'renewing', 'expired', 'failing', 'cooling_down', 'circuit_open'] as const;

/** One of `PROVIDER_TOKEN_STATES`: where a provider's token stands in `status()`. */
export type ProviderTokenState = (typeof PROVIDER_TOKEN_STATES)[number];

/** The token store as `storeStatus()` reports it. */
export interface TokenStoreStatus {
  /** Several instances share it (Redis). */
  shared: boolean;
  /** It cannot be reached right now: each instance works from its local copy. */
  degraded: boolean;
}

/** One provider's token state, as `status()` reports it. Never a token value. */
export interface ProviderTokenStatus {
  provider: string;
  state: ProviderTokenState;
  valid: boolean;
  renewing: boolean;
  expiresAt?: number;
  /** When the token stops being handed out: expiry minus the refresh skew. */
  validUntil?: number;
  obtainedAt?: number;
  lastRefreshAt?: number;
  failingSince?: number;
  cooldownUntil?: number;
  circuitOpenUntil?: number;
  hasRefreshToken: boolean;
  /** The last failure, with the provider's own code and message; `at` is when it happened. */
  lastError?: { kind: OAuthProviderErrorKind; status?: number; code?: string; description?: string; at: number };
  store: TokenStoreStatus;
}
