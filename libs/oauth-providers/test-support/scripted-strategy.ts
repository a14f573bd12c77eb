import { OAuthProviderError } from '../src/errors/oauth-provider.error.js';
import type { TokenGrant } from '../src/interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../src/interfaces/token-strategy.interface.js';

type Answer = TokenGrant | OAuthProviderError | Error | (() => TokenGrant | Promise<TokenGrant>);

/**
 * A provider whose answers the test scripts in order (the last one repeats). It records every
 * call, and `gate()` holds answers back so tests can pile concurrent callers onto one request.
 */
export class ScriptedStrategy implements TokenStrategy {
  readonly identity: string;
  calls: Array<{ grant: 'primary' | 'refresh'; refreshToken?: string }> = [];
  private primary: Answer[] = [];
  private refresh: Answer[] = [];
  private held?: { promise: Promise<void>; open: () => void };
  private counter = 0;

  constructor(readonly name = 'acme') {
    this.identity = `https://auth.example/${name}|client|client_credentials|`;
  }

  answers(...answers: Answer[]): this {
    this.primary = answers;
    return this;
  }

  refreshAnswers(...answers: Answer[]): this {
    this.refresh = answers;
    return this;
  }

  gate(): () => void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.held = { promise, open };
    return () => {
      this.held = undefined;
      open();
    };
  }

  requestToken(_ctx: TokenRequestContext): Promise<TokenGrant> {
    this.calls.push({ grant: 'primary' });
    return this.next(this.primary);
  }

  refreshToken(refreshToken: string, _ctx: TokenRequestContext): Promise<TokenGrant> {
    this.calls.push({ grant: 'refresh', refreshToken });
    return this.next(this.refresh);
  }

  private async next(list: Answer[]): Promise<TokenGrant> {
    await this.held?.promise;
    const answer = list.length > 1 ? list.shift()! : list[0];
    if (answer === undefined) return { accessToken: `tok-${++this.counter}`, expiresIn: 3600 };
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  }
}

export const unavailable = (provider: string, retryAfterMs?: number, status = 503) =>
  new OAuthProviderError({ provider, kind: 'unavailable', status, retryAfterMs });
export const rejected = (provider: string, description = 'Client authentication failed') =>
  new OAuthProviderError({ provider, kind: 'rejected', status: 401, code: 'invalid_client', description });
