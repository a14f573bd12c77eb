import { setTimeout as sleep } from 'node:timers/promises';
import type { Type } from '@nestjs/common';
import { OAuthConfigurationError } from './errors/oauth-configuration.error.js';
import type {
  CircuitBreakerOptions,
  Clock,
  RefresherOptions,
  ResolvedOAuthOptions,
  RetryOptions,
} from './interfaces/oauth-module-options.interface.js';
import type { TokenStrategy } from './interfaces/token-strategy.interface.js';
import type { TokenStore } from './stores/token-store.interface.js';

/** What `OAuthModule.forRoot()` takes: the providers, and how their tokens are stored, cached and renewed. */
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

/** Real time: the clock unless the options give one. */
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
