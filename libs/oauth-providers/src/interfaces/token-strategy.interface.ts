import type { AccessToken, TokenGrant } from './access-token.interface.js';
import type { TokenTransport } from './token-transport.interface.js';

/** The raw answer of a token endpoint: strategies parse it, the service never does. */
export interface TokenHttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The body as text (may be HTML, truncated JSON, empty...). */
  body: string;
}

/** One token request as a strategy builds it for `TokenHttpClient.post`. */
export interface TokenHttpRequest {
  url: string;
  headers: Record<string, string>;
  /** Already serialised (form-encoded or JSON) by the strategy. */
  body: string;
}

/**
 * Sends one HTTP request to a token endpoint with the module's timeout. Network errors and
 * timeouts reject with an `OAuthProviderError` of kind `unavailable`; any HTTP status resolves.
 * `transport`: the provider's CA, client certificate and proxy, when it has any.
 */
export interface TokenHttpClient {
  post(provider: string, request: TokenHttpRequest, transport?: TokenTransport): Promise<TokenHttpResponse>;
}

/** What the service hands a strategy for one token request: the HTTP client to send it with. */
export interface TokenRequestContext {
  http: TokenHttpClient;
  /** The strategy's transport, passed on with each request. */
  transport?: TokenTransport;
}

/**
 * One provider's wire format: how to ask for a token, how to read the answer and the
 * provider's errors, and how its API wants the token. Nothing else (no caching, retries,
 * locking or scheduling: the service does those once for every strategy).
 */
export interface TokenStrategy {
  /** Provider name, e.g. `latam`; also the gateway's route prefix. */
  readonly name: string;
  /**
   * Who the token belongs to, without the secret: token URL, client id, grant, scope, and anything
   * else that changes the token (audience, resource, user, client authentication method).
   * The service hashes it into the shared store's key, so two differently configured
   * clients never share a token.
   */
  readonly identity: string;
  /** Private CA, client certificate and egress proxy for the token endpoint; absent: direct, Node's roots. */
  readonly transport?: TokenTransport;
  /** The primary grant's `grant_type` (default `client_credentials`), as traces name it. */
  readonly grantType?: string;
  /** Primary grant. Rejects with `OAuthProviderError` only. */
  requestToken(ctx: TokenRequestContext): Promise<TokenGrant>;
  /** Refresh grant, for providers that issue refresh tokens. */
  refreshToken?(refreshToken: string, ctx: TokenRequestContext): Promise<TokenGrant>;
  /**
   * A hash of the credentials' current values (`credentialsFingerprint` in the strategies' helpers),
   * never a secret: a rejected-credentials cool-down ends as soon as it changes, e.g. after a rotation.
   */
  credentialsFingerprint?(): Promise<string>;
  /** Headers the provider's API wants; default `{ authorization: 'Bearer <token>' }`. */
  requestHeaders?(token: AccessToken): Record<string, string>;
}
