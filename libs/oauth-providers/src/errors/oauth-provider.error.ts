/**
 * - `rejected`: the token endpoint refused the credentials or the request (4xx). Never retried;
 *   remembered for the rejection cool-down.
 * - `unavailable`: 5xx, 429, network error, timeout, a WAF page. Retried with backoff.
 * - `invalid_response`: an answer that cannot be a token (HTML with 200, truncated JSON,
 *   no `access_token`).
 */
export type OAuthProviderErrorKind = 'rejected' | 'unavailable' | 'invalid_response';

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

/** The only error type a token request ends with. */
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

  /** A copy with other fields, e.g. the same rejection replayed during a cool-down. */
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
