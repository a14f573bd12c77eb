import { OAuthProviderError, type AccessToken, type TokenService } from '@oauth-gateway/oauth-providers';
import { ProblemError } from '../problem/problem.js';
import type { CallTrace } from '../tracing/tracing.js';

/** The providers' tokens as a proxied request needs them: failures already the caller's problem. */
export class ProxyTokens {
  constructor(private readonly tokens: TokenService) {}

  /**
   * The provider's token, or the caller's problem when there is none to be had. Traced, it is asked
   * for with the request's server span current, so that the token request it may wait on is its child.
   */
  token(provider: string, trace?: Pick<CallTrace, 'within'>): Promise<AccessToken> {
    return trace ? trace.within(() => this.untraced(provider)) : this.untraced(provider);
  }

  private async untraced(provider: string): Promise<AccessToken> {
    try {
      return await this.tokens.getToken(provider);
    } catch (error) {
      // A strategy's own exception is a bug, not the provider's answer: 500 internal_error, logged, no detail.
      if (!(error instanceof OAuthProviderError) || error.kind === 'strategy_error') throw error;
      const retryAfter = error.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      throw error.kind === 'rejected'
        ? new ProblemError('token_rejected', { provider, detail: error.description ?? error.code, retryAfter })
        : new ProblemError('token_unavailable', { provider, detail: error.description, retryAfter });
    }
  }

  /** Whether a 401 to `token` may start a renewal now (renewals are paced per provider). */
  mayRenew(provider: string, token: AccessToken): boolean {
    return this.tokens.mayRenew(provider, token.accessToken);
  }

  /** A token other than `refused`, which the provider answered 401 to. */
  async renew(provider: string, refused: AccessToken, trace?: Pick<CallTrace, 'within'>): Promise<AccessToken> {
    await this.tokens.invalidate(provider, refused.accessToken);
    return this.token(provider, trace);
  }

  /** The headers that carry `token` (the library builds them once per token). */
  headersFor(token: AccessToken): Readonly<Record<string, string>> {
    return this.tokens.getRequestHeaders(token);
  }
}
