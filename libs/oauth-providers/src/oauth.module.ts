import { Module } from '@nestjs/common';
import { HttpModule } from '@nestjs/axios';
import { resolveOptions, type OAuthModuleOptions } from './oauth.options.js';
import { OAUTH_MODULE_OPTIONS, OAuthConfigurableModule } from './oauth.module-definition.js';
import { RESOLVED_OAUTH_OPTIONS, TOKEN_HTTP_CLIENT } from './oauth.constants.js';
import { InMemoryTokenStore } from './stores/in-memory-token.store.js';
import { TokenStore } from './stores/token-store.interface.js';
import { StrategyRegistrar } from './strategy.registrar.js';
import { TokenStoreLifecycle } from './token-store.lifecycle.js';
import { AxiosTokenHttpClient } from './token/token-http.client.js';
import { TokenRefresher } from './token/token-refresher.service.js';
import { TokenService } from './token/token.service.js';

/**
 * `OAuthModule.forRoot({ providers: [...] })` / `forRootAsync({ useFactory, inject })`: gives the
 * app a `TokenService` for every configured provider. `isGlobal: true` makes it global. The work
 * at start-up and shutdown lives in providers with Nest's lifecycle hooks.
 */
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
    StrategyRegistrar,
    TokenStoreLifecycle,
  ],
  exports: [TokenService, TokenStore],
})
export class OAuthModule extends OAuthConfigurableModule {}
