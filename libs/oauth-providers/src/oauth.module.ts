import { Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HttpModule } from '@nestjs/axios';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';
import { resolveOptions } from './interfaces/oauth-module-options.interface.js';
import type { TokenStrategy } from './interfaces/token-strategy.interface.js';
import { OAUTH_MODULE_OPTIONS, OAuthConfigurableModule } from './oauth.module-definition.js';
import { RESOLVED_OAUTH_OPTIONS, TOKEN_HTTP_CLIENT } from './oauth.constants.js';
import { InMemoryTokenStore } from './stores/in-memory-token.store.js';
import { TokenStore } from './stores/token-store.interface.js';
import { AxiosTokenHttpClient } from './token/token-http.client.js';
import { TokenRefresher } from './token/token-refresher.service.js';
import { TokenService } from './token/token.service.js';

/**
 * `OAuthModule.forRoot({ providers: [...] })` / `forRootAsync({ useFactory, inject })`: gives the
 * app a `TokenService` for every configured provider. `isGlobal: true` makes it global.
 */
/** How long start-up waits for a shared store (Redis) to connect before going on degraded. */
const STORE_READY_TIMEOUT_MS = 3000;

@Module({
  imports: [HttpModule],
  providers: [
    { provide: RESOLVED_OAUTH_OPTIONS, inject: [OAUTH_MODULE_OPTIONS], useFactory: resolveOptions },
    {
      provide: TokenStore,
      inject: [OAUTH_MODULE_OPTIONS],
      useFactory: (options: OAuthModuleOptions) => options.store ?? new InMemoryTokenStore(),
    },
    { provide: TOKEN_HTTP_CLIENT, useClass: AxiosTokenHttpClient },
    TokenService,
    TokenRefresher,
  ],
  exports: [TokenService, TokenRefresher, TokenStore],
})
export class OAuthModule extends OAuthConfigurableModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('OAuthModule');
  constructor(
    @Inject(OAUTH_MODULE_OPTIONS) private readonly options: OAuthModuleOptions,
    private readonly moduleRef: ModuleRef,
    private readonly tokens: TokenService,
    @Inject(TokenStore) private readonly store: TokenStore,
  ) {
    super();
  }

  /** Strategy classes are created with Nest's injector, so they may inject HttpService, ConfigService... */
  async onModuleInit(): Promise<void> {
    if (this.store.ready && !(await this.store.ready(STORE_READY_TIMEOUT_MS))) {
      this.logger.warn(`token store not reachable within ${STORE_READY_TIMEOUT_MS} ms: starting degraded, tokens fetched per instance`);
    }
    for (const entry of this.options.providers) {
      const strategy: TokenStrategy =
        typeof entry === 'function' ? await this.resolveClass(entry) : entry;
      this.tokens.register(strategy);
    }
  }

  /** After the refresher has stopped: the store closes what it opened (a Redis subscriber...). */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close?.();
  }

  private async resolveClass(type: Type<TokenStrategy>): Promise<TokenStrategy> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return this.moduleRef.create(type);
    }
  }
}
