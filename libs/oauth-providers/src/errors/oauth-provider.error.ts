/**
 * - `rejected`: the token endpoint refused the credentials or the request (4xx). Never retried;
 *   remembered for the rejection cool-down.
 * - `unavailable`: 5xx, 429, network error, timeout, a WAF page. Retried with backoff.
 * - `invalid_response`: an answer that cannot be a token (HTML with 200, truncated JSON,
 *   no `access_token`).
 * - `strategy_error`: the strategy's own code threw (a bug, not an answer); the exception is the
 *   `cause`. Not retried.
 */
export type OAuthProviderErrorKind = 'rejected' | 'unavailable' | 'invalid_response' | 'strategy_error';

/** What an `OAuthProviderError` carries besides its message; a custom strategy builds one from its provider's answer. */
export interface OAuthProviderErrorDetails {
  provider: string;
  kind: OAuthProviderErrorKind;
  status?: number;
  /** The provider's own error code (`invalid_client`, `INVALID`, `01`...) or ours (`timeout`). */
  code?: string;
  /** The provider's own message, safe to show callers (it never contains our secrets). */
  description?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The only error a token request ends with, whatever the provider answered (or did not). `kind` says
 * what to do about it; `code` and `description` are the provider's own words when it gave any.
 */
export class OAuthProviderError extends Error {
  readonly provider: string;
  readonly kind: OAuthProviderErrorKind;
  readonly status?: number;
  readonly code?: string;
  readonly description?: string;
  readonly retryAfterMs?: number;

  constructor(details: OAuthProviderErrorDetails) {
    const where = details.status === undefined ? '' : ` (HTTP ${details.status})`;
    super(`${details.provider} token endpoint: ${details.kind}${where}${details.description ? `: ${details.description}` : ''}`, {
      cause: details.cause,
    });
    this.name = 'OAuthProviderError';
    this.provider = details.provider;
    this.kind = details.kind;
    this.status = details.status;
    this.code = details.code;
    this.description = details.description;
    this.retryAfterMs = details.retryAfterMs;
  }

  /**
   * A copy with other fields, e.g. the same rejection replayed during a cool-down.
   * @internal
   */
  with(changes: Partial<OAuthProviderErrorDetails>): OAuthProviderError {
    return new OAuthProviderError({
      provider: this.provider,
      kind: this.kind,
      status: this.status,
      code: this.code,
      description: this.description,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
      ...changes,
    });
  }
}

/** An exception thrown by a strategy's own code, as the error its callers get (the exception is the cause). */
export function strategyError(provider: string, cause: unknown): OAuthProviderError {
  const what = cause instanceof Error ? cause.name : typeof cause;
  return new OAuthProviderError({ provider, kind: 'strategy_error', description: `the strategy's code threw (${what})`, cause });
}
