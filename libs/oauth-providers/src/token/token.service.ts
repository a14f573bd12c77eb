import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import { NoAuthorizationHeaderError } from '../errors/no-authorization-header.error.js';
import { OAuthProviderError, strategyError } from '../errors/oauth-provider.error.js';
import { UnknownProviderError } from '../errors/unknown-provider.error.js';
import type { AccessToken, ProviderTokenStatus, TokenStoreStatus } from '../interfaces/access-token.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenHttpClient, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { RESOLVED_OAUTH_OPTIONS, TOKEN_HTTP_CLIENT } from '../oauth.constants.js';
import { TokenStore } from '../stores/token-store.interface.js';
import { toAccessToken, validUntil } from './token-lifetime.js';
import { providerState, refusalUnlessRotated, renewalWaitMs, renewsNow, servableToken, type ProviderState } from './provider-state.js';
import { tokenStatus } from './token-status.projection.js';
import { TokenStoreSync } from './token-store.sync.js';
import { currentTrace, noTrace, tokenWait, type Asker } from './token-tracing.js';
import { describeFailure, type TokenFailedEvent, type TokenServiceEvents } from './token.events.js';

/** What `getToken` takes besides the provider's name. */
export interface GetTokenOptions {
  /** Renew now even if the cached token is still valid (joins a renewal already in flight). */
  forceRefresh?: boolean;
}

/**
 * Hands out access tokens for the providers given to `OAuthModule` (inject it; the module creates
 * it): a local copy per provider valid until expiry minus the skew, one renewal in flight per
 * provider that every caller shares (and, with a shared store, one per provider for every
 * instance), events, and each provider's status.
 */
// Internally (google-auth-library's split): this class caches and single-flights; TokenStoreSync runs
// the shared-store protocol and each provider's TokenFetcher asks its token endpoint.
@Injectable()
export class TokenService implements OnApplicationShutdown {
  /**
   * `obtained`, `failed`, `request` (each token endpoint call) and `invalidated`, for metrics and
   * logs. While nothing listens to `failed`, the service logs each failure itself (one line).
   */
  readonly events = new EventEmitter<TokenServiceEvents>();
  private readonly logger = new Logger('TokenService');
  private readonly states = new Map<string, ProviderState>();
  private readonly sync: TokenStoreSync;
  private readonly stopping = new AbortController();

  /**
   * Nest builds it: inject `TokenService` from `OAuthModule` (or `OAuthTestingModule` in tests);
   * constructing one yourself gives a service with no providers.
   */
  constructor(
    @Inject(RESOLVED_OAUTH_OPTIONS) private readonly options: ResolvedOAuthOptions,
    @Inject(TokenStore) store: TokenStore,
    @Inject(TOKEN_HTTP_CLIENT) private readonly http: TokenHttpClient,
  ) {
    this.sync = new TokenStoreSync(store, options);
  }

  /** Nest's shutdown hook: a renewal waiting between retries gives up instead of holding the process (idempotent). */
  onApplicationShutdown(): void {
    this.stopping.abort();
  }

  /**
   * Adds a provider; the module registers every configured strategy before the app bootstraps.
   * @internal
   */
  register(strategy: TokenStrategy): void {
    if (this.states.has(strategy.name))
      throw new OAuthConfigurationError(strategy.name, 'name', 'is given to two providers: each needs its own name');
    const onRequest = (event: TokenServiceEvents['request'][0]) => this.events.emit('request', event);
    this.states.set(strategy.name, providerState(strategy, this.options, this.http, { signal: this.stopping.signal, onRequest }));
  }

  /** The names of the configured providers, in the order they were given. */
  providers(): string[] {
    return [...this.states.keys()];
  }

  /**
   * A valid token. Cached and valid: returned without any I/O. Otherwise one renewal per provider
   * is in flight at a time and every caller waits for it. A token within its skew but not expired
   * is still returned while no renewal may start yet (`minRequestIntervalMs`).
   */
  getToken(provider: string, opts: GetTokenOptions = {}): Promise<AccessToken> {
    const state = this.states.get(provider);
    if (!state) return Promise.reject(new UnknownProviderError(provider));
    const token = opts.forceRefresh ? undefined : servableToken(state, this.options.clock.now(), this.options);
    if (token) {
      state.hits++;
      return Promise.resolve(token);
    }
    state.misses++;
    const trace = currentTrace();
    return tokenWait(trace, provider, this.options.clock, this.renew(state, { background: false, trace }));
  }

  /** Starts a renewal ahead of expiry (the refresher calls this); callers keep the current token meanwhile. @internal */
  refreshInBackground(provider: string): Promise<AccessToken> {
    return this.renew(this.state(provider), { background: true, trace: noTrace() });
  }

  /**
   * The `Authorization` value the provider's strategy builds. Rejects with `NoAuthorizationHeaderError`
   * for a provider whose API takes the token elsewhere (LATAM): `getRequestHeaders` gives those.
   */
  async getAuthorizationHeader(provider: string): Promise<string> {
    const headers = this.requestHeadersFor(await this.getToken(provider));
    const name = Object.keys(headers).find((header) => header.toLowerCase() === 'authorization');
    if (name === undefined) throw new NoAuthorizationHeaderError(provider);
    return headers[name];
  }

  /**
   * The headers the provider's API wants with a valid token: `authorization` for most, LATAM's
   * `client_id` + `access_token` instead, Pay-me's `alg-api-version` besides. Given a token you
   * already hold (from `getToken`), the headers for that very token, synchronously, e.g. to send a
   * request and `invalidate(provider, token.accessToken)` if the API refuses it.
   */
  getRequestHeaders(provider: string): Promise<Readonly<Record<string, string>>>;
  getRequestHeaders(token: AccessToken): Readonly<Record<string, string>>;
  getRequestHeaders(of: string | AccessToken): Promise<Readonly<Record<string, string>>> | Readonly<Record<string, string>> {
    if (typeof of !== 'string') return this.requestHeadersFor(of);
    return this.getToken(of).then((token) => this.requestHeadersFor(token));
  }

  /**
   * The headers for a token already held, built once per token, so calling it per request costs nothing.
   * @internal
   */
  requestHeadersFor(token: AccessToken): Readonly<Record<string, string>> {
    const state = this.state(token.provider);
    if (state.headers?.token !== token) {
      let value: Record<string, string>;
      try {
        value = state.strategy.requestHeaders?.(token) ?? { authorization: `${token.tokenType} ${token.accessToken}` };
      } catch (cause) {
        throw strategyError(token.provider, cause);
      }
      state.headers = { token, value: Object.freeze(value) };
    }
    return state.headers.value;
  }

  /**
   * Whether `invalidate(provider, accessToken)` leads to another token now: true when that token was
   * already replaced or a renewal may start; false while `minRequestIntervalMs` holds renewals back
   * (a caller that got the token refused should then pass the refusal on rather than try again).
   */
  mayRenew(provider: string, accessToken: string): boolean {
    return renewsNow(this.state(provider), accessToken, this.options.clock.now(), this.options.minRequestIntervalMs);
  }

  /**
   * Drops the cached token. With `accessToken`, only if the cache still holds that token: many
   * requests that failed with the same old token cause one renewal, not one each. Resolves to
   * `mayRenew`'s answer: false when the token was kept because no renewal may start yet.
   */
  async invalidate(provider: string, accessToken?: string): Promise<boolean> {
    const state = this.state(provider);
    const current = state.local;
    if (accessToken !== undefined && current?.accessToken !== accessToken) return true;
    if (current !== undefined && !this.mayRenew(provider, current.accessToken)) return false;
    const victim = accessToken ?? current?.accessToken;
    state.local = undefined;
    state.headers = undefined;
    state.invalidated = victim;
    this.events.emit('invalidated', { provider });
    if (victim !== undefined) await this.sync.drop(state.storeKey, victim);
    return true;
  }

  /** Each provider's state, expiry, last refresh, failures, cool-down and circuit: never a token value. */
  status(): ProviderTokenStatus[] {
    const now = this.options.clock.now();
    const store = this.storeStatus();
    const { refreshSkewMs } = this.options;
    return [...this.states.entries()].map(([provider, s]) => {
      const { local: token, lastRefreshAt } = s;
      return tokenStatus(
        { provider, token, renewing: !!s.inflight, lastRefreshAt, health: s.breaker.health(now), store },
        now,
        refreshSkewMs,
      );
    });
  }

  /**
   * Whether the token store is shared between instances (Redis), and whether it is unreachable right
   * now (`degraded`: each instance then works from its local copy and fetches tokens itself).
   */
  storeStatus(): TokenStoreStatus {
    return { shared: this.sync.shared, degraded: this.sync.isDegraded() };
  }

  /** Per provider, `getToken` calls served from the local copy (hits) and those that had to wait for a renewal (misses), since start. */
  cacheCounters(): Array<{ provider: string; hits: number; misses: number }> {
    return [...this.states.entries()].map(([provider, s]) => ({ provider, hits: s.hits, misses: s.misses }));
  }

  /**
   * When the local token was obtained and when it stops being handed out (expiry minus skew).
   * @internal
   */
  lifetime(provider: string): { obtainedAt: number; validUntil: number } | undefined {
    const token = this.state(provider).local;
    return token && { obtainedAt: token.obtainedAt, validUntil: validUntil(token, this.options.refreshSkewMs) };
  }

  private state(provider: string): ProviderState {
    const state = this.states.get(provider);
    if (!state) throw new UnknownProviderError(provider);
    return state;
  }

  private renew(state: ProviderState, by: Asker): Promise<AccessToken> {
    if (state.inflight) return state.inflight;
    // During a cool-down or while the circuit is open, callers are answered at once; once the open
    // period has passed, the next renewal is the probe (single flight makes it one). A cool-down
    // with the refused credentials' fingerprint first checks, for all callers at once, for a rotation.
    const now = this.options.clock.now();
    const refusal = state.breaker.refusal(now);
    if (refusal && state.breaker.cooldownFingerprint(now) === undefined) return Promise.reject(refusal);
    const inflight = this.renewPaced(state, by, refusal !== undefined).finally(() => {
      state.inflight = undefined;
    });
    state.inflight = inflight;
    return inflight;
  }

  /** One renewal, started once `minRequestIntervalMs` has passed since the last one, whoever asked for it. */
  private async renewPaced(state: ProviderState, by: Asker, coolingDown: boolean): Promise<AccessToken> {
    const refusal = coolingDown ? await refusalUnlessRotated(state, () => this.options.clock.now()) : undefined;
    if (refusal) throw refusal;
    const wait = renewalWaitMs(state, this.options.clock.now(), this.options.minRequestIntervalMs);
    const shuttingDown = () => {
      throw new OAuthProviderError({ provider: state.strategy.name, kind: 'unavailable', description: 'shutting down' });
    };
    if (wait > 0) await this.options.clock.sleep(wait, this.stopping.signal).catch(shuttingDown);
    const started = this.options.clock.now();
    state.renewalStartedAt = started;
    try {
      const token = await this.obtain(state, by, started);
      state.breaker.renewalSucceeded();
      return token;
    } catch (cause) {
      throw cause instanceof OAuthProviderError ? this.failed(state, cause, by.background, started) : cause;
    }
  }

  /** The renewal itself: another instance's token through the store, or the provider's. */
  private obtain(state: ProviderState, { background, trace }: Asker, started: number): Promise<AccessToken> {
    const provider = state.strategy.name;
    const replacing = state.local?.accessToken ?? state.invalidated;
    return this.sync.renew(state.storeKey, replacing, {
      traceContext: trace,
      adopt: (token) => {
        this.keep(state, token);
        const durationMs = this.options.clock.now() - started;
        this.events.emit('obtained', { provider, token, source: 'store', grant: 'primary', background, durationMs });
        return token;
      },
      fetch: async () => {
        const previousRefresh = state.local?.refreshToken;
        const { grant, kind } = await state.fetcher.fetch(previousRefresh, trace);
        const now = this.options.clock.now();
        const token = toAccessToken(provider, grant, now, this.options, kind === 'refresh' ? previousRefresh : undefined);
        this.keep(state, token);
        await this.sync.save(state.storeKey, token, token.expiresAt - now);
        this.events.emit('obtained', { provider, token, source: 'provider', grant: kind, background, durationMs: now - started });
        return token;
      },
    });
  }

  private keep(state: ProviderState, token: AccessToken): void {
    state.local = token;
    state.lastRefreshAt = this.options.clock.now();
  }

  /** Records the failure, tells listeners (or, with none, the log) once, and returns what callers get. */
  private failed(state: ProviderState, error: OAuthProviderError, background: boolean, started: number): OAuthProviderError {
    const at = this.options.clock.now();
    const outcome = state.breaker.renewalFailed(error, at);
    const event: TokenFailedEvent = {
      provider: state.strategy.name,
      error,
      background,
      durationMs: at - started,
      reason: outcome.reason,
      cooldownUntil: outcome.cooldownUntil,
      circuitOpenUntil: outcome.circuitOpenUntil,
      retryAfterMs: outcome.error.retryAfterMs,
      consecutiveFailures: outcome.consecutiveFailures,
    };
    // Like Node's 'error' event: an app that listens reports failures its own way, one that does not still sees them.
    if (!this.events.emit('failed', event)) this.logger.warn(describeFailure(event));
    return outcome.error;
  }
}
