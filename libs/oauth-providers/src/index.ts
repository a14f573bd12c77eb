// The package's main entry point: what an app needs to get tokens, and to write its own strategy.
// Everything else is internal; the Redis store is in `./redis`, so that `ioredis` stays optional.
export { OAuthModule } from './oauth.module.js';
export type { OAuthModuleOptions } from './oauth.options.js';
export type { RetryOptions, CircuitBreakerOptions, RefresherOptions, Clock } from './interfaces/oauth-module-options.interface.js';

export { TokenService } from './token/token.service.js';
export type { GetTokenOptions } from './token/token.service.js';
export type {
  TokenServiceEvents,
  TokenObtainedEvent,
  TokenFailedEvent,
  TokenFailureReason,
  TokenRequestEvent,
  TokenInvalidatedEvent,
} from './token/token.events.js';
export type {
  AccessToken,
  TokenGrant,
  ProviderTokenStatus,
  ProviderTokenState,
  TokenStoreStatus,
} from './interfaces/access-token.interface.js';
export { PROVIDER_TOKEN_STATES } from './interfaces/access-token.interface.js';

export { OAuthProviderError } from './errors/oauth-provider.error.js';
export type { OAuthProviderErrorKind, OAuthProviderErrorDetails } from './errors/oauth-provider.error.js';
export { OAuthConfigurationError } from './errors/oauth-configuration.error.js';
export { UnknownProviderError } from './errors/unknown-provider.error.js';
export { NoAuthorizationHeaderError } from './errors/no-authorization-header.error.js';

export { TokenStore } from './stores/token-store.interface.js';
export type { TokenLock } from './stores/token-store.interface.js';
export { InMemoryTokenStore } from './stores/in-memory-token.store.js';

export type {
  TokenStrategy,
  TokenRequestContext,
  TokenHttpClient,
  TokenHttpRequest,
  TokenHttpResponse,
} from './interfaces/token-strategy.interface.js';
export type { TokenTransport, TransportMaterial } from './interfaces/token-transport.interface.js';
export * from './strategies/index.js';
