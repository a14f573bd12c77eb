import { Module, type DynamicModule } from '@nestjs/common';
import { OAuthTestingController, StandInStrategy, type OAuthTestingToken } from './oauth-testing.controller.js';
import { resolveOptions } from './oauth.options.js';
import { InMemoryTokenStore } from './stores/in-memory-token.store.js';
import { TokenStore } from './stores/token-store.interface.js';
import { TokenService } from './token/token.service.js';

/** What `OAuthTestingModule.forRoot()` takes. */
export interface OAuthTestingOptions {
  /** One stand-in provider per name, handing out this token (or what this function returns each time). */
  tokens: Record<string, OAuthTestingToken>;
  /** Makes `TokenService` visible to every module of the app under test, as `OAuthModule`'s `isGlobal` does (default true). */
  isGlobal?: boolean;
}

/**
 * Imported in place of `OAuthModule.forRoot(...)` in a test: the real `TokenService` over stand-in
 * providers (tokens living 3600 s, `authorization: Bearer <token>`), no token endpoint, no refresher
 * timer; usable right after `Test.createTestingModule(...).compile()`. `OAuthTestingController`
 * makes a stand-in fail and counts its tokens.
 */
@Module({})
export class OAuthTestingModule {
  static forRoot(options: OAuthTestingOptions): DynamicModule {
    return {
      module: OAuthTestingModule,
      global: options.isGlobal ?? true,
      providers: [
        { provide: TESTING_STATE, useFactory: () => testingState(options) },
        { provide: TokenService, inject: [TESTING_STATE], useFactory: (s: TestingState) => s.tokens },
        { provide: TokenStore, inject: [TESTING_STATE], useFactory: (s: TestingState) => s.store },
        { provide: OAuthTestingController, inject: [TESTING_STATE], useFactory: (s: TestingState) => s.controller },
      ],
      exports: [TokenService, TokenStore, OAuthTestingController],
    };
  }
}

const TESTING_STATE = Symbol('OAuthTestingState');

interface TestingState {
  tokens: TokenService;
  store: TokenStore;
  controller: OAuthTestingController;
}

// The stand-ins are registered when the provider is built, not on module init, so that `compile()` alone is enough.
function testingState(options: OAuthTestingOptions): TestingState {
  const store = new InMemoryTokenStore();
  const resolved = resolveOptions({
    providers: [],
    // A stand-in's failure is the test's answer: no retry, cool-down, pacing or circuit in its way.
    minRequestIntervalMs: 0,
    rejectedCooldownSeconds: 0,
    retry: { maxAttempts: 1 },
    circuitBreaker: { failureThreshold: Number.MAX_SAFE_INTEGER },
    refresher: { enabled: false },
  });
  const noEndpoint = { post: () => Promise.reject(new Error('OAuthTestingModule calls no token endpoint')) };
  const tokens = new TokenService(resolved, store, noEndpoint);
  const standIns = new Map(Object.entries(options.tokens).map(([name, token]) => [name, new StandInStrategy(name, token)]));
  for (const standIn of standIns.values()) tokens.register(standIn);
  return { tokens, store, controller: new OAuthTestingController(tokens, standIns) };
}
