import { resolveOptions, type OAuthModuleOptions } from '../src/oauth.options.js';
import type { TokenHttpClient, TokenStrategy } from '../src/interfaces/token-strategy.interface.js';
import { InMemoryTokenStore } from '../src/stores/in-memory-token.store.js';
import type { TokenStore } from '../src/stores/token-store.interface.js';
import { TokenService } from '../src/token/token.service.js';

/** For strategies that never reach the network (scripted ones). */
export const noHttp: TokenHttpClient = { post: () => Promise.reject(new Error('scripted strategies do not use HTTP')) };

/**
 * A TokenService with `strategies` registered, built without Nest from the module's options (as
 * OAuthModule resolves them), for specs outside the library that drive one by hand.
 */
export function createTokenService(
  strategies: TokenStrategy[],
  options: Omit<OAuthModuleOptions, 'providers'> = {},
  store: TokenStore = new InMemoryTokenStore(),
  http: TokenHttpClient = noHttp,
): TokenService {
  const service = new TokenService(resolveOptions({ ...options, providers: strategies }), store, http);
  for (const strategy of strategies) service.register(strategy);
  return service;
}
