import type { Caller } from '../auth/api-keys.js';

/** The answer for one request of a rate-limited key. */
export interface RateDecision {
  allowed: boolean;
  /** Requests the key may still make at once (the bucket's level after this one). */
  remaining: number;
  /** When refused: milliseconds until one more request would be admitted. */
  waitMs: number;
}

/**
 * Per-key rate limits. `take` is only called for a caller with a `rateLimit`, so keys without one
 * cost nothing. In memory per instance, or shared by every instance through Redis.
 */
export interface RateLimiter {
  /** True when the limits are meant to hold across instances (Redis configured). */
  readonly shared: boolean;
  /** True while Redis is unreachable and each instance applies the full limits on its own. */
  isDegraded(): boolean;
  take(caller: Caller): RateDecision | Promise<RateDecision>;
  /** Forgets buckets that are full again (after the key set changed, buckets of removed keys go). */
  prune(): void;
}
export const RateLimiter = Symbol('RateLimiter');
