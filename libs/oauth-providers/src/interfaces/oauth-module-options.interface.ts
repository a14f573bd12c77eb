/** Injected time source, so tests can move time instead of sleeping. */
export interface Clock {
  now(): number;
  /**
   * Waits between retries; a fake clock advances `now` and resolves at once. Rejects early when
   * `signal` aborts (the app is shutting down), so no retry timer outlives the app.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** How a failed token request is retried (`OAuthModuleOptions.retry`): 5xx, 429, timeouts and garbage, never a rejection. */
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

/** When a provider's token endpoint is given a rest (`OAuthModuleOptions.circuitBreaker`). */
export interface CircuitBreakerOptions {
  /** Consecutive failed token calls (5xx, 429, timeouts, garbage) that open the circuit (default 3). */
  failureThreshold?: number;
  /** First open period; doubles on each failed probe (default 5000 ms). */
  openMs?: number;
  /** Longest open period (default 60000 ms). */
  maxOpenMs?: number;
}

/** The background renewal of tokens in use (`OAuthModuleOptions.refresher`). */
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
