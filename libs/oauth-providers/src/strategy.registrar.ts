import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { OAuthModuleOptions } from './oauth.options.js';
import type { TokenStrategy } from './interfaces/token-strategy.interface.js';
import { OAuthConfigurationError } from './errors/oauth-configuration.error.js';
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
    for (const [index, entry] of this.options.providers.entries()) {
      const strategy = typeof entry === 'function' ? await this.resolveClass(entry) : entry;
      this.tokens.register(checkedStrategy(strategy, index));
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

/** A provider entry that is not a strategy stops start-up here, named by its place in `providers`. */
function checkedStrategy(strategy: unknown, index: number): TokenStrategy {
  const s = strategy as Partial<TokenStrategy> | null | undefined;
  const where = `providers[${index}]`;
  if (s === null || typeof s !== 'object')
    throw new OAuthConfigurationError(
      undefined,
      where,
      'is not a token strategy (an object or an @Injectable() class implementing TokenStrategy)',
    );
  if (typeof s.name !== 'string' || s.name.trim().length === 0)
    throw new OAuthConfigurationError(undefined, `${where}.name`, 'must be a non-empty string');
  if (typeof s.identity !== 'string')
    throw new OAuthConfigurationError(s.name, 'identity', 'must be a string (token URL, client id, grant: never a secret)');
  if (typeof s.requestToken !== 'function') throw new OAuthConfigurationError(s.name, 'requestToken', 'must be a method');
  return s as TokenStrategy;
}
