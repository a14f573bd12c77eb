import { setTimeout as sleep } from 'node:timers/promises';
import type { Type } from '@nestjs/common';
import type { TokenStore } from '../stores/token-store.interface.js';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import type { TokenStrategy } from './token-strategy.interface.js';

/** Injected time source, so tests can move time instead of sleeping. */
export interface Clock {
  now(): number;
  /**
   * Waits between retries; a fake clock advances `now` and resolves at once. Rejects early when
   * `signal` aborts (the app is shutting down), so no retry timer outlives the app.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface RetryOptions {
  /** Attempts in total, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff step (default 200 ms); doubles each attempt, with jitter. */
  baseDelayMs?: number;
  /** Largest single wait, `Retry-After` included (default 5000 ms). */
  maxDelayMs?: number;
  /** Bound on the whole renewal, waits included (default 20000 ms). */
  maxTotalMs?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failed token calls (5xx, 429, timeouts, garbage) that open the circuit (default 3). */
  failureThreshold?: number;
  /** First open period; doubles on each failed probe (default 5000 ms). */
  openMs?: number;
  /** Longest open period (default 60000 ms). */
  maxOpenMs?: number;
}

export interface RefresherOptions {
  /** Renew tokens in the background before they expire (default true; needs `ScheduleModule.forRoot()` in the app). */
  enabled?: boolean;
  /** Fetch every provider's token at start-up instead of on first use (default false; the gateway sets true). */
  warmOnStart?: boolean;
  /** Largest random advance of a renewal, so providers and instances do not renew in lockstep (default 30000 ms, at most 10% of the token's life). */
  jitterMs?: number;
  /** Backoff of a failed background renewal: first step and cap (defaults 1000 and 60000 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface OAuthModuleOptions {
  /** One entry per provider: a strategy object (`prio({...})`) or an `@Injectable()` strategy class. */
  providers: Array<TokenStrategy | Type<TokenStrategy>>;
  /** Default: a new `InMemoryTokenStore`. */
  store?: TokenStore;
  /** A token counts as expired this long before its real expiry (default 60). */
  refreshSkewSeconds?: number;
  /** Time limit of one token endpoint call, from connecting to the last byte of the answer (default 10000). */
  requestTimeoutMs?: number;
  /** Longest `access_token` (and `token_type`) accepted; a longer one is an `invalid_response` (default 16384). */
  maxTokenBytes?: number;
  /**
   * At most one renewal per provider starts in this long, whatever asks for it (the refresher, an
   * `invalidate`, a short lifetime); a lifetime shorter than this is stretched to it (default 1000; 0: no limit).
   */
  minRequestIntervalMs?: number;
  /** Lifetime assumed when `expires_in` is missing or unusable (default 3600). */
  defaultTtlSeconds?: number;
  /** Cap on any lifetime (default 604800, 7 days). */
  maxTtlSeconds?: number;
  /** After a rejection, the same error is returned without asking the endpoint for this long (default 30). */
  rejectedCooldownSeconds?: number;
  retry?: RetryOptions;
  /**
   * How long an instance waits for another instance's renewal before fetching itself (default: the
   * lock's lifetime, `retry.maxTotalMs + requestTimeoutMs`, so a slow but live holder is waited for).
   */
  clusterWaitMs?: number;
  circuitBreaker?: CircuitBreakerOptions;
  refresher?: RefresherOptions;
  clock?: Clock;
}

/** `OAuthModuleOptions` with every default applied: what the service reads. */
export interface ResolvedOAuthOptions {
  refreshSkewMs: number;
  requestTimeoutMs: number;
  maxTokenBytes: number;
  minRequestIntervalMs: number;
  defaultTtlMs: number;
  maxTtlMs: number;
  rejectedCooldownMs: number;
  retry: Required<RetryOptions>;
  clusterWaitMs: number;
  circuit: Required<CircuitBreakerOptions>;
  refresher: Required<RefresherOptions>;
  clock: Clock;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/** The module's options with every default applied; missing or malformed `providers` stops start-up here. */
export function resolveOptions(options: OAuthModuleOptions): ResolvedOAuthOptions {
  if (!Array.isArray(options?.providers)) {
    throw new OAuthConfigurationError(
      undefined,
      'providers',
      'is missing: give OAuthModule.forRoot({ providers: [...] }) one strategy per provider, e.g. providers: [prio({ tokenUrl, clientId, clientSecret })]',
    );
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxTotalMs = options.retry?.maxTotalMs ?? 20_000;
  return {
    refreshSkewMs: (options.refreshSkewSeconds ?? 60) * 1000,
    requestTimeoutMs,
    maxTokenBytes: options.maxTokenBytes ?? 16_384,
    minRequestIntervalMs: options.minRequestIntervalMs ?? 1000,
    defaultTtlMs: (options.defaultTtlSeconds ?? 3600) * 1000,
    maxTtlMs: (options.maxTtlSeconds ?? 604_800) * 1000,
    rejectedCooldownMs: (options.rejectedCooldownSeconds ?? 30) * 1000,
    retry: {
      maxAttempts: options.retry?.maxAttempts ?? 4,
      baseDelayMs: options.retry?.baseDelayMs ?? 200,
      maxDelayMs: options.retry?.maxDelayMs ?? 5000,
      maxTotalMs,
    },
    clusterWaitMs: options.clusterWaitMs ?? maxTotalMs + requestTimeoutMs,
    circuit: {
      failureThreshold: options.circuitBreaker?.failureThreshold ?? 3,
      openMs: options.circuitBreaker?.openMs ?? 5000,
      maxOpenMs: options.circuitBreaker?.maxOpenMs ?? 60_000,
    },
    refresher: {
      enabled: options.refresher?.enabled ?? true,
      warmOnStart: options.refresher?.warmOnStart ?? false,
      jitterMs: options.refresher?.jitterMs ?? 30_000,
      retryBaseMs: options.refresher?.retryBaseMs ?? 1000,
      retryMaxMs: options.refresher?.retryMaxMs ?? 60_000,
    },
    clock: options.clock ?? systemClock,
  };
}
