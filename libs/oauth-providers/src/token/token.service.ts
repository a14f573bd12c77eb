import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import { UnknownProviderError } from '../errors/unknown-provider.error.js';
import type { AccessToken, ProviderTokenStatus, TokenGrant } from '../interfaces/access-token.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenHttpClient, TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { RESOLVED_OAUTH_OPTIONS, TOKEN_HTTP_CLIENT } from '../oauth.constants.js';
import { TokenStore } from '../stores/token-store.interface.js';
import { backoffDelay } from './backoff.js';
import { isValid, toAccessToken, validUntil } from './token-lifetime.js';

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
export interface TokenFailedEvent {
  provider: string;
  error: OAuthProviderError;
  background: boolean;
  durationMs: number;
}
export interface TokenServiceEvents {
  obtained: [TokenObtainedEvent];
  failed: [TokenFailedEvent];
  /** One token endpoint call, retries counted separately. */
  request: [{ provider: string; outcome: 'success' | OAuthProviderError['kind']; durationMs: number }];
  invalidated: [{ provider: string }];
}

interface ProviderState {
  readonly strategy: TokenStrategy;
  readonly storeKey: string;
  /** This process's copy; the hot path reads only this. */
  local?: AccessToken;
  headers?: { token: AccessToken; value: Readonly<Record<string, string>> };
  inflight?: Promise<AccessToken>;
  rejection?: { error: OAuthProviderError; until: number };
  failingSince?: number;
  lastError?: { error: OAuthProviderError; at: number };
  lastRefreshAt?: number;
  /** The last token invalidated (an upstream refused it): never adopted again from the store. */
  invalidated?: string;
  /** Failed token calls in a row (rejections excluded); opens the circuit at the threshold. */
  consecutiveFailures: number;
  circuit?: { openUntil: number; openMs: number };
  hits: number;
  misses: number;
}

export interface GetTokenOptions {
  /** Renew now even if the cached token is still valid (joins a renewal already in flight). */
  forceRefresh?: boolean;
}

/**
 * Hands out access tokens: caching with skew, single flight per process (and per cluster through
 * a shared store's lock), refresh grant before primary grant, bounded retries with backoff and
 * `Retry-After`, and a cool-down after rejected credentials. Strategies only speak HTTP.
 */
@Injectable()
export class TokenService implements OnApplicationShutdown {
  readonly events = new EventEmitter<TokenServiceEvents>();
  private readonly logger = new Logger('TokenService');
  private readonly states = new Map<string, ProviderState>();
  private readonly ctx: TokenRequestContext;
  private storeDegradedSince?: number;
  /** Aborted on shutdown: a renewal waiting between retries gives up instead of holding the process. */
  private readonly stopping = new AbortController();

  constructor(
    @Inject(RESOLVED_OAUTH_OPTIONS) private readonly options: ResolvedOAuthOptions,
    @Inject(TokenStore) private readonly store: TokenStore,
    @Inject(TOKEN_HTTP_CLIENT) http: TokenHttpClient,
  ) {
    this.ctx = { http };
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
  }

  /** Adds a provider; the module calls this for every configured strategy. */
  register(strategy: TokenStrategy): void {
    if (this.states.has(strategy.name)) throw new Error(`OAuth provider "${strategy.name}" is registered twice`);
    const hash = createHash('sha256').update(strategy.identity).digest('hex').slice(0, 32);
    this.states.set(strategy.name, {
      strategy,
      // `{provider}` is a Redis Cluster hash tag: one provider's keys (token, lock) share a slot.
      storeKey: `oauth:{${strategy.name}}:${hash}`,
      consecutiveFailures: 0,
      hits: 0,
      misses: 0,
    });
  }

  providers(): string[] {
    return [...this.states.keys()];
  }

  has(provider: string): boolean {
    return this.states.has(provider);
  }

  /**
   * A valid token. Cached and valid: returned without any I/O. Otherwise one renewal per provider
   * is in flight at a time and every caller waits for it.
   */
  getToken(provider: string, opts: GetTokenOptions = {}): Promise<AccessToken> {
    const state = this.states.get(provider);
    if (!state) return Promise.reject(new UnknownProviderError(provider));
    const now = this.options.clock.now();
    if (!opts.forceRefresh && isValid(state.local, now, this.options.refreshSkewMs)) {
      state.hits++;
      return Promise.resolve(state.local);
    }
    state.misses++;
    return this.renew(state, false);
  }

  /**
   * Starts a renewal ahead of expiry (the refresher calls this). Callers keep receiving the current
   * token while it runs.
   */
  refreshInBackground(provider: string): Promise<AccessToken> {
    return this.renew(this.state(provider), true);
  }

  async getAuthorizationHeader(provider: string): Promise<string> {
    const token = await this.getToken(provider);
    return `${token.tokenType} ${token.accessToken}`;
  }

  async getRequestHeaders(provider: string): Promise<Readonly<Record<string, string>>> {
    return this.requestHeadersFor(await this.getToken(provider));
  }

  /** The headers the provider's API wants for this token, built once per token. */
  requestHeadersFor(token: AccessToken): Readonly<Record<string, string>> {
    const state = this.state(token.provider);
    if (state.headers?.token !== token) {
      const value = state.strategy.requestHeaders?.(token) ?? { authorization: `${token.tokenType} ${token.accessToken}` };
      state.headers = { token, value: Object.freeze(value) };
    }
    return state.headers.value;
  }

  /**
   * Drops the cached token. With `accessToken`, only if the cache still holds that token: many
   * requests that failed with the same old token cause one renewal, not one each.
   */
  async invalidate(provider: string, accessToken?: string): Promise<void> {
    const state = this.state(provider);
    const current = state.local;
    if (accessToken !== undefined && current?.accessToken !== accessToken) return;
    state.local = undefined;
    state.headers = undefined;
    state.invalidated = accessToken ?? current?.accessToken;
    this.events.emit('invalidated', { provider });
    const victim = accessToken ?? current?.accessToken;
    if (victim !== undefined) await this.guardStore(() => this.store.deleteIfEqual(state.storeKey, victim), false);
  }

  status(): ProviderTokenStatus[] {
    const now = this.options.clock.now();
    return [...this.states.entries()].map(([provider, s]) => {
      const valid = isValid(s.local, now, this.options.refreshSkewMs);
      const cooling = s.rejection !== undefined && s.rejection.until > now;
      const circuitOpen = s.circuit !== undefined && s.circuit.openUntil > now;
      const state: ProviderTokenStatus['state'] = valid
        ? 'valid'
        : cooling
          ? 'cooling_down'
          : circuitOpen
            ? 'circuit_open'
            : s.inflight
            ? 'renewing'
            : s.lastError
              ? 'failing'
              : s.local
                ? 'expired'
                : 'empty';
      return {
        provider,
        state,
        valid,
        renewing: s.inflight !== undefined,
        expiresAt: s.local?.expiresAt,
        validUntil: s.local && validUntil(s.local, this.options.refreshSkewMs),
        obtainedAt: s.local?.obtainedAt,
        lastRefreshAt: s.lastRefreshAt,
        failingSince: s.failingSince,
        cooldownUntil: cooling ? s.rejection!.until : undefined,
        circuitOpenUntil: circuitOpen ? s.circuit!.openUntil : undefined,
        hasRefreshToken: s.local?.refreshToken !== undefined,
        lastError: s.lastError && {
          kind: s.lastError.error.kind,
          status: s.lastError.error.status,
          code: s.lastError.error.code,
          description: s.lastError.error.description,
          at: s.lastError.at,
        },
        store: { shared: this.store.shared, degraded: this.isStoreDegraded() },
      };
    });
  }

  /** Cache hits and misses since start, per provider (for metrics). */
  cacheCounters(): Array<{ provider: string; hits: number; misses: number }> {
    return [...this.states.entries()].map(([provider, s]) => ({ provider, hits: s.hits, misses: s.misses }));
  }

  /** When the local token was obtained and when it stops being handed out (expiry minus skew). */
  lifetime(provider: string): { obtainedAt: number; validUntil: number } | undefined {
    const token = this.state(provider).local;
    return token && { obtainedAt: token.obtainedAt, validUntil: validUntil(token, this.options.refreshSkewMs) };
  }

  /** True while a renewal runs for the provider (the refresher does not stack another). */
  isRenewing(provider: string): boolean {
    return this.state(provider).inflight !== undefined;
  }

  isStoreDegraded(): boolean {
    return this.store.isDegraded?.() ?? this.storeDegradedSince !== undefined;
  }

  private state(provider: string): ProviderState {
    const state = this.states.get(provider);
    if (!state) throw new UnknownProviderError(provider);
    return state;
  }

  private renew(state: ProviderState, background: boolean): Promise<AccessToken> {
    if (state.inflight) return state.inflight;
    const now = this.options.clock.now();
    if (state.rejection && state.rejection.until > now) {
      return Promise.reject(state.rejection.error.with({ retryAfterMs: state.rejection.until - now }));
    }
    // Open circuit: fail fast instead of letting every caller wait out a dead endpoint. Once the
    // open period has passed, the next renewal is the probe (single flight makes it one).
    if (state.circuit && state.circuit.openUntil > now && state.lastError) {
      return Promise.reject(
        state.lastError.error.with({ retryAfterMs: state.circuit.openUntil - now, description: 'circuit open after repeated token endpoint failures' }),
      );
    }
    const started = now;
    const inflight = this.obtain(state, background)
      .then((token) => {
        state.failingSince = undefined;
        state.lastError = undefined;
        state.rejection = undefined;
        state.circuit = undefined;
        return token;
      })
      .catch((cause: unknown) => {
        const error = asProviderError(state.strategy.name, cause);
        const at = this.options.clock.now();
        state.lastError = { error, at };
        state.failingSince ??= at;
        // When a cool-down starts or the circuit opens, callers are told when asking again makes sense.
        let waitMs: number | undefined;
        if (error.kind === 'rejected' && this.options.rejectedCooldownMs > 0) {
          state.rejection = { error, until: at + this.options.rejectedCooldownMs };
          waitMs = this.options.rejectedCooldownMs;
        } else if (error.kind !== 'rejected' && state.consecutiveFailures >= this.options.circuit.failureThreshold) {
          const openMs = state.circuit ? Math.min(state.circuit.openMs * 2, this.options.circuit.maxOpenMs) : this.options.circuit.openMs;
          state.circuit = { openUntil: at + openMs, openMs };
          waitMs = openMs;
          this.logger.warn(`${state.strategy.name}: circuit open for ${openMs} ms after ${state.consecutiveFailures} failed token calls`);
        }
        this.events.emit('failed', { provider: state.strategy.name, error, background, durationMs: at - started });
        throw waitMs === undefined ? error : error.with({ retryAfterMs: Math.max(waitMs, error.retryAfterMs ?? 0) });
      })
      .finally(() => {
        state.inflight = undefined;
      });
    state.inflight = inflight;
    return inflight;
  }

  /**
   * The renewal itself. With a shared store: adopt another instance's fresh token, else take the
   * cluster lock and fetch; an instance that finds the lock taken waits for the holder's result,
   * and takes the lock itself if the holder gave up or died. Only when the store is unreachable,
   * or the bounded wait has passed, does an instance fetch without the lock.
   */
  private async obtain(state: ProviderState, background: boolean): Promise<AccessToken> {
    const started = this.options.clock.now();
    // The token being replaced, or the one just invalidated: never adopt it back from the store.
    const replacing = state.local?.accessToken ?? state.invalidated;
    if (!this.store.shared) return this.fetchAndStore(state, background, started);
    const deadline = started + this.options.clusterWaitMs;
    for (;;) {
      const shared = await this.adoptable(state, replacing);
      if (shared) return this.adopt(state, shared, background, started);
      const lock = await this.guardStore(() => this.store.lock(state.storeKey, this.lockTtlMs()), null);
      if (lock === null) return this.fetchAndStore(state, background, started); // store down: local single flight only
      if (lock) {
        try {
          // The holder before us may have finished between our read and our lock.
          const again = await this.adoptable(state, replacing);
          if (again) return this.adopt(state, again, background, started);
          return await this.fetchAndStore(state, background, started);
        } finally {
          await this.guardStore(() => lock.release(), undefined);
        }
      }
      const remaining = deadline - this.options.clock.now();
      if (remaining <= 0) return this.fetchAndStore(state, background, started);
      const theirs = await this.guardStore(() => this.store.waitFor(state.storeKey, remaining, replacing), undefined);
      if (theirs && theirs.accessToken !== replacing && isValid(theirs, this.options.clock.now(), this.options.refreshSkewMs)) {
        return this.adopt(state, theirs, background, started);
      }
      // No result: the holder failed or died (its lock is gone) — go round and take the lock.
    }
  }

  private async adoptable(state: ProviderState, replacing: string | undefined): Promise<AccessToken | undefined> {
    const token = await this.guardStore(() => this.store.get(state.storeKey), undefined);
    return token && token.accessToken !== replacing && isValid(token, this.options.clock.now(), this.options.refreshSkewMs)
      ? token
      : undefined;
  }

  private adopt(state: ProviderState, token: AccessToken, background: boolean, started: number): AccessToken {
    this.keep(state, token);
    this.events.emit('obtained', {
      provider: state.strategy.name,
      token,
      source: 'store',
      grant: 'primary',
      background,
      durationMs: this.options.clock.now() - started,
    });
    return token;
  }

  private async fetchAndStore(state: ProviderState, background: boolean, started: number): Promise<AccessToken> {
    const previousRefresh = state.local?.refreshToken;
    const { grant, kind } = await this.fetchWithRetry(state, previousRefresh);
    const now = this.options.clock.now();
    const token = toAccessToken(state.strategy.name, grant, now, this.options, kind === 'refresh' ? previousRefresh : undefined);
    this.keep(state, token);
    await this.guardStore(() => this.store.set(state.storeKey, token, token.expiresAt - now), undefined);
    this.events.emit('obtained', {
      provider: state.strategy.name,
      token,
      source: 'provider',
      grant: kind,
      background,
      durationMs: now - started,
    });
    return token;
  }

  private keep(state: ProviderState, token: AccessToken): void {
    state.local = token;
    state.lastRefreshAt = this.options.clock.now();
  }

  /**
   * One renewal: the refresh grant first when a refresh token was issued (falling back to the
   * primary grant if it is refused), each call retried on `unavailable` with backoff, honouring
   * `Retry-After`, within `retry.maxTotalMs`. Rejections and unreadable answers are not retried.
   */
  private async fetchWithRetry(
    state: ProviderState,
    refreshToken: string | undefined,
  ): Promise<{ grant: TokenGrant; kind: 'primary' | 'refresh' }> {
    const { retry, clock } = this.options;
    const started = clock.now();
    let useRefresh = refreshToken !== undefined && state.strategy.refreshToken !== undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const kind = useRefresh ? 'refresh' : 'primary';
        return { grant: await this.callOnce(state, useRefresh ? refreshToken : undefined), kind };
      } catch (cause) {
        const error = asProviderError(state.strategy.name, cause);
        if (useRefresh && error.kind === 'rejected') {
          this.logger.warn(`${state.strategy.name}: refresh token refused (${error.description ?? error.code}); using the primary grant`);
          useRefresh = false;
          attempt--;
          continue;
        }
        if (error.kind !== 'unavailable' || attempt >= retry.maxAttempts) throw error;
        const delay = error.retryAfterMs ?? backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
        if (delay > retry.maxDelayMs || clock.now() - started + delay > retry.maxTotalMs) throw error;
        try {
          await clock.sleep(delay, this.stopping.signal);
        } catch {
          throw error; // shutting down: give up with the last failure instead of waiting on
        }
      }
    }
  }

  private async callOnce(state: ProviderState, refreshToken: string | undefined): Promise<TokenGrant> {
    const started = this.options.clock.now();
    const provider = state.strategy.name;
    try {
      const grant =
        refreshToken !== undefined
          ? await state.strategy.refreshToken!(refreshToken, this.ctx)
          : await state.strategy.requestToken(this.ctx);
      if (!grant || typeof grant.accessToken !== 'string' || grant.accessToken.length === 0) {
        throw new OAuthProviderError({ provider, kind: 'invalid_response', description: 'the answer holds no access_token' });
      }
      state.consecutiveFailures = 0;
      this.events.emit('request', { provider, outcome: 'success', durationMs: this.options.clock.now() - started });
      return grant;
    } catch (cause) {
      const error = asProviderError(provider, cause);
      if (error.kind !== 'rejected') state.consecutiveFailures++;
      this.events.emit('request', { provider, outcome: error.kind, durationMs: this.options.clock.now() - started });
      throw error;
    }
  }

  /** Lock lifetime: a holder that dies frees the lock after one full renewal could have run. */
  private lockTtlMs(): number {
    return this.options.retry.maxTotalMs + this.options.requestTimeoutMs;
  }

  /** Store calls never fail a token request: on error the instance works from its local copy. */
  private async guardStore<T, F>(call: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      const result = await call();
      this.storeDegradedSince = undefined;
      return result;
    } catch (error) {
      if (this.storeDegradedSince === undefined) {
        this.storeDegradedSince = this.options.clock.now();
        this.logger.warn(`token store unreachable, working from local copies: ${(error as Error).message}`);
      }
      return fallback;
    }
  }
}

/** Whatever a strategy threw becomes an `OAuthProviderError` (a bug in a strategy included). */
function asProviderError(provider: string, cause: unknown): OAuthProviderError {
  if (cause instanceof OAuthProviderError) return cause;
  return new OAuthProviderError({
    provider,
    kind: 'invalid_response',
    description: 'the token answer could not be read',
    cause,
  });
}
