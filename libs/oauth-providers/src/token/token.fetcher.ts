import { Logger } from '@nestjs/common';
import { OAuthProviderError, strategyError } from '../errors/oauth-provider.error.js';
import type { TokenGrant } from '../interfaces/access-token.interface.js';
import type { Clock, RetryOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { backoffDelay } from './backoff.js';
import { checkedGrant } from './token-grant.check.js';
import { inTokenSpan, type TraceContext } from './token-tracing.js';
import type { TokenEndpointBreaker } from './token-endpoint.breaker.js';
import type { TokenRequestEvent } from './token.events.js';

export interface TokenFetcherOptions {
  retry: Required<RetryOptions>;
  clock: Clock;
  /** Aborted on shutdown: a renewal waiting between retries gives up instead of holding the process. */
  signal: AbortSignal;
  /** Longest `access_token` or `token_type` kept. */
  maxTokenBytes: number;
  /** Told of every call to the token endpoint (for metrics). */
  onRequest: (event: TokenRequestEvent) => void;
}

/** A grant read from the token endpoint, and which grant obtained it. */
export interface FetchedGrant {
  grant: TokenGrant;
  kind: 'primary' | 'refresh';
}

/**
 * Gets one provider's token from its token endpoint, with no cache and no sharing (the
 * `refreshTokenNoCache()` of google-auth-library): the refresh grant (RFC 6749 §6) first when a
 * refresh token was issued, falling back to the primary grant if it is refused; each call retried on
 * `unavailable` with backoff, honouring `Retry-After`, within `retry.maxTotalMs`. Rejections and
 * unreadable answers (a token that cannot be sent as a header value among them) are not retried. Every call's outcome feeds the provider's breaker.
 */
export class TokenFetcher {
  private readonly logger = new Logger('TokenFetcher');

  constructor(
    private readonly strategy: TokenStrategy,
    private readonly breaker: TokenEndpointBreaker,
    private readonly ctx: TokenRequestContext,
    private readonly options: TokenFetcherOptions,
  ) {}

  /** Rejects with an `OAuthProviderError` only. */
  async fetch(refreshToken: string | undefined, trace?: TraceContext): Promise<FetchedGrant> {
    const { retry, clock, signal } = this.options;
    const started = clock.now();
    let useRefresh = refreshToken !== undefined && this.strategy.refreshToken !== undefined;
    for (let attempt = 1; ; attempt++) {
      const kind = useRefresh ? 'refresh' : 'primary';
      try {
        return { grant: await this.callOnce(useRefresh ? refreshToken : undefined, attempt, trace), kind };
      } catch (cause) {
        const error = cause as OAuthProviderError; // callOnce rejects with nothing else
        if (useRefresh && error.kind === 'rejected') {
          this.logger.warn(`${this.strategy.name}: refresh token refused (${error.description ?? error.code}); using the primary grant`);
          useRefresh = false;
          attempt--;
          continue;
        }
        if (error.kind !== 'unavailable' || attempt >= retry.maxAttempts) throw error;
        const delay = error.retryAfterMs ?? backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
        if (delay > retry.maxDelayMs || clock.now() - started + delay > retry.maxTotalMs) throw error;
        try {
          await clock.sleep(delay, signal);
        } catch {
          throw error; // shutting down: give up with the last failure instead of waiting on
        }
      }
    }
  }

  /** One call; whatever the strategy throws or returns that is not a grant becomes an `OAuthProviderError`, here only. */
  private callOnce(refreshToken: string | undefined, attempt: number, trace: TraceContext | undefined): Promise<TokenGrant> {
    const grantType = refreshToken !== undefined ? 'refresh_token' : (this.strategy.grantType ?? 'client_credentials');
    const outcome = (error: unknown) => (error as OAuthProviderError).kind;
    return inTokenSpan(trace, { provider: this.strategy.name, grantType, attempt }, () => this.attempt(refreshToken), outcome);
  }

  private async attempt(refreshToken: string | undefined): Promise<TokenGrant> {
    const { clock, onRequest } = this.options;
    const provider = this.strategy.name;
    // Taken before the call, so that a secret rotated while it was under way ends the cool-down that follows.
    const fingerprint = await credentialsFingerprintOf(this.strategy);
    const started = clock.now();
    try {
      const grant = checkedGrant(
        provider,
        refreshToken !== undefined ? await this.strategy.refreshToken!(refreshToken, this.ctx) : await this.strategy.requestToken(this.ctx),
        this.options.maxTokenBytes,
      );
      this.breaker.callSucceeded();
      onRequest({ provider, outcome: 'success', durationMs: clock.now() - started });
      return grant;
    } catch (cause) {
      const error = asProviderError(provider, cause);
      this.breaker.callFailed(error, fingerprint);
      onRequest({ provider, outcome: error.kind, durationMs: clock.now() - started });
      throw error;
    }
  }
}

/**
 * A strategy that throws anything else (a bug, a TypeError) still ends the request with an
 * `OAuthProviderError`, of its own kind so that nobody mistakes the bug for the provider's answer.
 */
function asProviderError(provider: string, cause: unknown): OAuthProviderError {
  if (cause instanceof OAuthProviderError) return cause;
  return strategyError(provider, cause);
}

/** The strategy's `credentialsFingerprint()`, or undefined when it has none or its code throws. */
export async function credentialsFingerprintOf(strategy: TokenStrategy): Promise<string | undefined> {
  try {
    return await strategy.credentialsFingerprint?.();
  } catch {
    return undefined;
  }
}
