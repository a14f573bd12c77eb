export { OAuthModule } from './oauth.module.js';
export { OAUTH_MODULE_OPTIONS } from './oauth.module-definition.js';
export { TokenService } from './token/token.service.js';
export { TokenRefresher } from './token/token-refresher.service.js';
export type { GetTokenOptions, TokenObtainedEvent, TokenFailedEvent, TokenServiceEvents } from './token/token.service.js';
export type { TokenFailureReason, TokenRequestEvent } from './token/token.events.js';
export { lifetimeMs, validUntil, isValid } from './token/token-lifetime.js';
export { parseRetryAfter } from './token/backoff.js';
export { OAuthProviderError } from './errors/oauth-provider.error.js';
export type { OAuthProviderErrorKind, OAuthProviderErrorDetails } from './errors/oauth-provider.error.js';
export { UnknownProviderError } from './errors/unknown-provider.error.js';
export { NoAuthorizationHeaderError } from './errors/no-authorization-header.error.js';
export { TokenStore } from './stores/token-store.interface.js';
export type { TokenLock } from './stores/token-store.interface.js';
export { InMemoryTokenStore } from './stores/in-memory-token.store.js';
export type { AccessToken, TokenGrant, ProviderTokenStatus, ProviderTokenState } from './interfaces/access-token.interface.js';
export { PROVIDER_TOKEN_STATES } from './interfaces/access-token.interface.js';
export type {
  TokenStrategy,
  TokenRequestContext,
  TokenHttpClient,
  TokenHttpRequest,
  TokenHttpResponse,
} from './interfaces/token-strategy.interface.js';
export type { OAuthModuleOptions, RetryOptions, CircuitBreakerOptions, RefresherOptions, Clock, ResolvedOAuthOptions } from './interfaces/oauth-module-options.interface.js';
export { systemClock, resolveOptions } from './interfaces/oauth-module-options.interface.js';
export { RESOLVED_OAUTH_OPTIONS, TOKEN_HTTP_CLIENT } from './oauth.constants.js';
export * from './strategies/index.js';
