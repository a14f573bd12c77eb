import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';
import type { TokenStrategy } from './interfaces/token-strategy.interface.js';
import { OAUTH_MODULE_OPTIONS } from './oauth.module-definition.js';
import { TokenService } from './token/token.service.js';

/**
 * Registers every configured strategy with the `TokenService` on module init, so before any
 * `onApplicationBootstrap` (the refresher's warm-up included) asks for a token.
 */
@Injectable()
export class StrategyRegistrar implements OnModuleInit {
  constructor(
    @Inject(OAUTH_MODULE_OPTIONS) private readonly options: OAuthModuleOptions,
    private readonly moduleRef: ModuleRef,
    private readonly tokens: TokenService,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const entry of this.options.providers) {
      this.tokens.register(typeof entry === 'function' ? await this.resolveClass(entry) : entry);
    }
  }

  /** Strategy classes come from Nest's injector, so they may inject HttpService, ConfigService... */
  private async resolveClass(type: Type<TokenStrategy>): Promise<TokenStrategy> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return this.moduleRef.create(type);
    }
  }
}
