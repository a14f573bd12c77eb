/** `OAuthModuleOptions` with defaults applied (`ResolvedOAuthOptions`). */
export const RESOLVED_OAUTH_OPTIONS = Symbol('RESOLVED_OAUTH_OPTIONS');
/** The `TokenHttpClient` strategies receive in their context. */
export const TOKEN_HTTP_CLIENT = Symbol('TOKEN_HTTP_CLIENT');
