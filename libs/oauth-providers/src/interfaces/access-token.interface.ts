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

export type ProviderTokenState =
  | 'empty' // no token yet
  | 'valid'
  | 'renewing'
  | 'expired'
  | 'failing' // last attempt failed, no valid token
  | 'cooling_down' // credentials rejected; not asked again until cooldownUntil
  | 'circuit_open';

/** One provider's token state, as `/tokens` and `/health/ready` show it. Never a token value. */
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
  lastError?: { kind: string; status?: number; code?: string; description?: string; at: number };
  store: { shared: boolean; degraded: boolean };
}
