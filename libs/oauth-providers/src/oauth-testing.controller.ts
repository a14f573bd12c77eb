import type { AccessToken, TokenGrant } from './interfaces/access-token.interface.js';
import type { TokenStrategy } from './interfaces/token-strategy.interface.js';
import type { TokenService } from './token/token.service.js';

/** A stand-in's token: a fixed string, or a function returning one (sync or async) for each token request. */
export type OAuthTestingToken = string | (() => string | Promise<string>);

/** A provider of `OAuthTestingModule` that hands out the given token and can be made to fail. */
export class StandInStrategy implements TokenStrategy {
  readonly identity: string;
  issued = 0;
  failure: { error: unknown } | undefined;

  constructor(
    readonly name: string,
    private readonly token: OAuthTestingToken,
  ) {
    this.identity = `oauth-testing:${name}`;
  }

  async requestToken(): Promise<TokenGrant> {
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      throw failure.error;
    }
    const accessToken = typeof this.token === 'string' ? this.token : await this.token();
    this.issued++;
    return { accessToken, tokenType: 'Bearer', expiresIn: 3600 };
  }

  requestHeaders(token: AccessToken): Record<string, string> {
    return { authorization: `Bearer ${token.accessToken}` };
  }
}

/**
 * Steers the stand-in providers of `OAuthTestingModule`: get it with `moduleRef.get(OAuthTestingController)`.
 */
export class OAuthTestingController {
  /** @internal */
  constructor(
    private readonly tokens: TokenService,
    private readonly standIns: ReadonlyMap<string, StandInStrategy>,
  ) {}

  /**
   * Drops the provider's cached token and makes its next token request reject with `error`; the
   * one after that hands out tokens again. An `OAuthProviderError` comes back as given; any other
   * error as a real strategy's exception does, an `OAuthProviderError` of kind `strategy_error` with it as `cause`.
   */
  failNext(provider: string, error: Error): void {
    this.standIn(provider).failure = { error };
    void this.tokens.invalidate(provider);
  }

  /** How many tokens the provider's stand-in handed out so far. */
  issued(provider: string): number {
    return this.standIn(provider).issued;
  }

  private standIn(provider: string): StandInStrategy {
    const standIn = this.standIns.get(provider);
    if (!standIn) throw new Error(`OAuthTestingModule has no provider "${provider}": give it in forRoot({ tokens })`);
    return standIn;
  }
}
