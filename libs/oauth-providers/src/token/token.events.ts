import type { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';

/** Emitted on `TokenService.events` (metrics, logs and the refresher listen). */
export interface TokenObtainedEvent {
  provider: string;
  token: AccessToken;
  /** `provider`: we asked the token endpoint; `store`: another instance had already done it. */
  source: 'provider' | 'store';
  grant: 'primary' | 'refresh';
  background: boolean;
  durationMs: number;
}

/**
 * What a failed renewal led to: nothing more (`failed`), a cool-down because the credentials were
 * refused (`cooling_down`), or an open circuit after repeated failures (`circuit_open`).
 */
export type TokenFailureReason = 'failed' | 'cooling_down' | 'circuit_open';

/** A renewal that ended without a token, with everything a log line or a metric needs to say why. */
export interface TokenFailedEvent {
  provider: string;
  /** The failure as the token endpoint (or the strategy reading its answer) reported it. */
  error: OAuthProviderError;
  background: boolean;
  durationMs: number;
  reason: TokenFailureReason;
  /** With `cooling_down`: when the token endpoint may be asked again. */
  cooldownUntil?: number;
  /** With `circuit_open`: when one probe may go through. */
  circuitOpenUntil?: number;
  /** How long callers were told to wait before asking again, when that is known. */
  retryAfterMs?: number;
  /** Failed token endpoint calls in a row so far, rejections excluded (the circuit counts these). */
  consecutiveFailures: number;
}

/** One token endpoint call, retries counted separately. */
export interface TokenRequestEvent {
  provider: string;
  outcome: 'success' | OAuthProviderError['kind'];
  durationMs: number;
}

/** A cached token was dropped by `invalidate` (the provider's API refused it): the next caller renews it. */
export interface TokenInvalidatedEvent {
  provider: string;
}

/** The events of `TokenService.events`, with their payloads. */
export interface TokenServiceEvents {
  /** A token was obtained, from the provider or from another instance through the shared store. */
  obtained: [TokenObtainedEvent];
  /** Without a listener, the service logs each failure itself (one line); with one, the listener does. */
  failed: [TokenFailedEvent];
  request: [TokenRequestEvent];
  invalidated: [TokenInvalidatedEvent];
}

/** One line for a failure: what happened and what it led to, never a token or a secret. */
export function describeFailure(event: TokenFailedEvent): string {
  const { provider, error, reason } = event;
  const until = (ms: number | undefined) => (ms === undefined ? '' : ` until ${new Date(ms).toISOString()}`);
  if (reason === 'cooling_down')
    return `${provider}: credentials refused, not asking again${until(event.cooldownUntil)} (${error.message})`;
  if (reason === 'circuit_open') {
    return `${provider}: circuit open${until(event.circuitOpenUntil)} after ${event.consecutiveFailures} failed token calls (${error.message})`;
  }
  return `${provider}: token renewal failed (${error.message})`;
}
