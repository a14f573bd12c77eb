import type { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { CircuitBreakerOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenFailureReason } from './token.events.js';

export interface TokenEndpointBreakerOptions {
  /** How long a rejection is replayed without asking the endpoint again (0: not at all). */
  rejectedCooldownMs: number;
  circuit: Required<CircuitBreakerOptions>;
}

/** What a failed renewal led to, and the error its callers get. */
export interface RenewalFailure {
  reason: TokenFailureReason;
  /** The failure, with `retryAfterMs` set when a cool-down started or the circuit opened. */
  error: OAuthProviderError;
  cooldownUntil?: number;
  circuitOpenUntil?: number;
  consecutiveFailures: number;
}

/** The breaker's part of a provider's status. */
export interface TokenEndpointHealth {
  failingSince?: number;
  cooldownUntil?: number;
  circuitOpenUntil?: number;
  lastError?: { error: OAuthProviderError; at: number };
}

const CIRCUIT_OPEN_DESCRIPTION = 'circuit open after repeated token endpoint failures';

/**
 * Keeps callers off one provider's token endpoint while asking it is pointless: for a cool-down
 * after it refused the credentials (some providers lock out clients that keep sending refused
 * credentials), and while the circuit is open after repeated failures (5xx, 429, timeouts, garbage).
 * Once the open period has passed, the next renewal is the probe; a failed probe doubles the period.
 */
export class TokenEndpointBreaker {
  private consecutiveFailures = 0;
  private rejection?: { error: OAuthProviderError; until: number; fingerprint?: string };
  /** The credentials' fingerprint of the last call refused, for the cool-down that follows. */
  private refusedFingerprint?: string;
  private circuit?: { openUntil: number; openMs: number };
  private lastError?: { error: OAuthProviderError; at: number };
  private failingSince?: number;

  constructor(private readonly options: TokenEndpointBreakerOptions) {}

  /** The error to answer at once instead of asking the endpoint, or undefined when it may be asked. */
  refusal(now: number): OAuthProviderError | undefined {
    if (this.rejection && this.rejection.until > now) {
      return this.rejection.error.with({ retryAfterMs: this.rejection.until - now });
    }
    if (this.circuit && this.circuit.openUntil > now && this.lastError) {
      return this.lastError.error.with({ retryAfterMs: this.circuit.openUntil - now, description: CIRCUIT_OPEN_DESCRIPTION });
    }
    return undefined;
  }

  /** One call to the token endpoint answered with a usable grant. */
  callSucceeded(): void {
    this.consecutiveFailures = 0;
  }

  /**
   * One call to the token endpoint failed, made with credentials of `fingerprint` (when the strategy
   * tells it); a rejection is the cool-down's business, not the circuit's.
   */
  callFailed(error: OAuthProviderError, fingerprint?: string): void {
    if (error.kind !== 'rejected') this.consecutiveFailures++;
    else this.refusedFingerprint = fingerprint;
  }

  /** The fingerprint of the credentials refused, while their cool-down lasts (undefined when unknown). */
  cooldownFingerprint(now: number): string | undefined {
    return this.rejection && this.rejection.until > now ? this.rejection.fingerprint : undefined;
  }

  /** The credentials changed since they were refused: the endpoint may be asked again at once. */
  endCooldown(): void {
    this.rejection = undefined;
  }

  /** A renewal ended with a token, fetched or adopted from the shared store: the endpoint is trusted again. */
  renewalSucceeded(): void {
    this.failingSince = undefined;
    this.lastError = undefined;
    this.rejection = undefined;
    this.circuit = undefined;
  }

  /** A renewal ended with `error` at `at`: starts a cool-down or opens the circuit when due. */
  renewalFailed(error: OAuthProviderError, at: number): RenewalFailure {
    this.lastError = { error, at };
    this.failingSince ??= at;
    const { rejectedCooldownMs, circuit } = this.options;
    const consecutiveFailures = this.consecutiveFailures;
    // Callers are told when asking again makes sense: the wait, or the endpoint's own Retry-After if longer.
    const waiting = (waitMs: number) => error.with({ retryAfterMs: Math.max(waitMs, error.retryAfterMs ?? 0) });
    if (error.kind === 'rejected' && rejectedCooldownMs > 0) {
      this.rejection = { error, until: at + rejectedCooldownMs, fingerprint: this.refusedFingerprint };
      return { reason: 'cooling_down', error: waiting(rejectedCooldownMs), cooldownUntil: this.rejection.until, consecutiveFailures };
    }
    if (error.kind !== 'rejected' && consecutiveFailures >= circuit.failureThreshold) {
      const openMs = this.circuit ? Math.min(this.circuit.openMs * 2, circuit.maxOpenMs) : circuit.openMs;
      this.circuit = { openUntil: at + openMs, openMs };
      return { reason: 'circuit_open', error: waiting(openMs), circuitOpenUntil: this.circuit.openUntil, consecutiveFailures };
    }
    return { reason: 'failed', error, consecutiveFailures };
  }

  health(now: number): TokenEndpointHealth {
    return {
      failingSince: this.failingSince,
      cooldownUntil: this.rejection && this.rejection.until > now ? this.rejection.until : undefined,
      circuitOpenUntil: this.circuit && this.circuit.openUntil > now ? this.circuit.openUntil : undefined,
      lastError: this.lastError,
    };
  }
}
