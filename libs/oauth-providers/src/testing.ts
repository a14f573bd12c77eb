// The testing entry point (`@oauth-gateway/oauth-providers/testing`): stand-in providers for an
// app's own unit tests, in place of `OAuthModule`, with no token endpoint and no timers.
export { OAuthTestingModule } from './oauth-testing.module.js';
export type { OAuthTestingOptions } from './oauth-testing.module.js';
export { OAuthTestingController } from './oauth-testing.controller.js';
export type { OAuthTestingToken } from './oauth-testing.controller.js';
