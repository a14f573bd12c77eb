import type { AccessToken, ProviderTokenState, ProviderTokenStatus } from '../interfaces/access-token.interface.js';
import type { TokenEndpointHealth } from './token-endpoint.breaker.js';
import { isValid, validUntil } from './token-lifetime.js';

/** What the service knows of one provider at one instant. */
export interface ProviderSnapshot {
  provider: string;
  token?: AccessToken;
  renewing: boolean;
  lastRefreshAt?: number;
  health: TokenEndpointHealth;
  store: { shared: boolean; degraded: boolean };
}

/** One provider's status as `status()` reports it: states and times, never a token value. */
export function tokenStatus(s: ProviderSnapshot, now: number, skewMs: number): ProviderTokenStatus {
  const valid = isValid(s.token, now, skewMs);
  const { health } = s;
  const lastError = health.lastError;
  return {
    provider: s.provider,
    state: stateOf(valid, s, health),
    valid,
    renewing: s.renewing,
    expiresAt: s.token?.expiresAt,
    validUntil: s.token && validUntil(s.token, skewMs),
    obtainedAt: s.token?.obtainedAt,
    lastRefreshAt: s.lastRefreshAt,
    failingSince: health.failingSince,
    cooldownUntil: health.cooldownUntil,
    circuitOpenUntil: health.circuitOpenUntil,
    hasRefreshToken: s.token?.refreshToken !== undefined,
    lastError: lastError && {
      kind: lastError.error.kind,
      status: lastError.error.status,
      code: lastError.error.code,
      description: lastError.error.description,
      at: lastError.at,
    },
    store: s.store,
  };
}

/** The one state shown, most telling first: a valid token outranks a failure being retried. */
function stateOf(valid: boolean, s: ProviderSnapshot, health: TokenEndpointHealth): ProviderTokenState {
  if (valid) return 'valid';
  if (health.cooldownUntil !== undefined) return 'cooling_down';
  if (health.circuitOpenUntil !== undefined) return 'circuit_open';
  if (s.renewing) return 'renewing';
  if (health.lastError) return 'failing';
  return s.token ? 'expired' : 'empty';
}
