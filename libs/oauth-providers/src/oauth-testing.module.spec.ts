import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import fc from 'fast-check';
import { OAuthConfigurationError } from './errors/oauth-configuration.error.js';
import { OAuthProviderError } from './errors/oauth-provider.error.js';
import { UnknownProviderError } from './errors/unknown-provider.error.js';
import { OAuthTestingController, OAuthTestingModule } from './testing.js';
import { TokenService } from './token/token.service.js';

/** A service of the app under test, as a user writes it: it injects TokenService. */
@Injectable()
class PartnerClient {
  constructor(private readonly tokens: TokenService) {}
  headers(provider: string) {
    return this.tokens.getRequestHeaders(provider);
  }
}

async function compiled(tokens: Record<string, string | (() => string | Promise<string>)>) {
  const moduleRef = await Test.createTestingModule({
    imports: [OAuthTestingModule.forRoot({ tokens })],
    providers: [PartnerClient],
  }).compile();
  return { moduleRef, tokens: moduleRef.get(TokenService), control: moduleRef.get(OAuthTestingController) };
}

const rejected = (provider: string) => new OAuthProviderError({ provider, kind: 'rejected', status: 401, code: 'invalid_client' });

describe('OAuthTestingModule', () => {
  it('gives the real TokenService over stand-ins right after compile(), without init(): fixed, sync and async tokens', async () => {
    let n = 0;
    const { moduleRef, tokens, control } = await compiled({ prio: 'tok-1', sabre: () => `s-${++n}`, idp: async () => 'async-tok' });
    expect(tokens).toBeInstanceOf(TokenService);
    expect(tokens.providers()).toEqual(['prio', 'sabre', 'idp']);
    await expect(tokens.getToken('prio')).resolves.toMatchObject({ provider: 'prio', accessToken: 'tok-1', tokenType: 'Bearer' });
    await expect(tokens.getRequestHeaders('prio')).resolves.toEqual({ authorization: 'Bearer tok-1' });
    await expect(tokens.getAuthorizationHeader('sabre')).resolves.toBe('Bearer s-1');
    await expect(moduleRef.get(PartnerClient).headers('idp')).resolves.toEqual({ authorization: 'Bearer async-tok' });
    // cached for 3600 s: one token per stand-in however often it is asked
    await tokens.getToken('sabre');
    expect([control.issued('prio'), control.issued('sabre'), control.issued('idp')]).toEqual([1, 1, 1]);
    const token = await tokens.getToken('prio');
    expect(token.expiresAt - token.obtainedAt).toBe(3_600_000);
    await moduleRef.close();
  });

  it('failNext drops the cached token: the next request rejects with that very error, the one after gets a new token', async () => {
    let n = 0;
    const { moduleRef, tokens, control } = await compiled({ sabre: () => `s-${++n}` });
    await tokens.getToken('sabre');
    const error = rejected('sabre');
    control.failNext('sabre', error);
    await expect(tokens.getToken('sabre')).rejects.toBe(error);
    await expect(tokens.getToken('sabre')).resolves.toMatchObject({ accessToken: 's-2' });
    expect(control.issued('sabre')).toBe(2);
    await moduleRef.close();
  });

  it('any library error, any kind, comes back as given, never retried or held back by a cool-down or circuit', async () => {
    const { moduleRef, tokens, control } = await compiled({ prio: 'tok-1' });
    const kinds = ['rejected', 'unavailable', 'invalid_response'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...kinds), fc.integer({ min: 400, max: 599 }), async (kind, status) => {
        const error = new OAuthProviderError({ provider: 'prio', kind, status });
        const before = control.issued('prio');
        control.failNext('prio', error);
        await expect(tokens.getToken('prio')).rejects.toBe(error);
        await expect(tokens.getToken('prio')).resolves.toMatchObject({ accessToken: 'tok-1' });
        expect(control.issued('prio')).toBe(before + 1);
      }),
      { numRuns: 40 },
    );
    await moduleRef.close();
  });

  it('another error, as from a real strategy, comes back as a strategy_error that carries it', async () => {
    const { moduleRef, tokens, control } = await compiled({ prio: 'tok-1' });
    const error = new OAuthConfigurationError('prio', 'clientSecret', 'is empty');
    control.failNext('prio', error);
    await expect(tokens.getToken('prio')).rejects.toMatchObject({ kind: 'strategy_error', provider: 'prio', cause: error });
    await moduleRef.close();
  });

  it('answers an unknown provider as OAuthModule does, and the controller names what it lacks', async () => {
    const { moduleRef, tokens, control } = await compiled({ prio: 'tok-1' });
    await expect(tokens.getToken('nope')).rejects.toBeInstanceOf(UnknownProviderError);
    expect(() => control.issued('nope')).toThrow('OAuthTestingModule has no provider "nope"');
    expect(() => control.failNext('nope', rejected('nope'))).toThrow('no provider "nope"');
    await moduleRef.close();
  });

  it('a token function that throws is a strategy error of that provider, not a crash', async () => {
    const { moduleRef, tokens } = await compiled({
      bad: () => {
        throw new Error('boom');
      },
    });
    await expect(tokens.getToken('bad')).rejects.toMatchObject({ name: 'OAuthProviderError', kind: 'strategy_error', provider: 'bad' });
    await moduleRef.close();
  });
});
