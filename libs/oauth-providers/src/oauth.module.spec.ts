import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { startProviderEmulators, type EmulatedProvider, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { OAuthConfigurationError } from './errors/oauth-configuration.error.js';
import { OAuthProviderError } from './errors/oauth-provider.error.js';
import type { AccessToken, TokenGrant } from './interfaces/access-token.interface.js';
import type { OAuthModuleOptions } from './oauth.options.js';
import type { TokenRequestContext, TokenStrategy } from './interfaces/token-strategy.interface.js';
import { OAuthModule } from './oauth.module.js';
import { latamPass, payme, prio, sabre, transatel } from './strategies/index.js';
import { TokenService } from './token/token.service.js';

/** A settings provider, as an app would have, to prove strategy classes get Nest's injector. */
@Injectable()
class AcmeSettings {
  tokenUrl = '';
  clientId = '';
  clientSecret = '';
}

@Module({ providers: [AcmeSettings], exports: [AcmeSettings] })
class SettingsModule {}

/** An app's own strategy class: it injects AcmeSettings and reuses the generic token endpoint. */
@Injectable()
class AcmeStrategy implements TokenStrategy {
  readonly name = 'acme';
  constructor(private readonly settings: AcmeSettings) {}
  get identity() {
    return `${this.settings.tokenUrl}|${this.settings.clientId}`;
  }
  async requestToken({ http }: TokenRequestContext): Promise<TokenGrant> {
    const basic = Buffer.from(`${encodeURIComponent(this.settings.clientId)}:${encodeURIComponent(this.settings.clientSecret)}`).toString(
      'base64',
    );
    const res = await http.post(this.name, {
      url: this.settings.tokenUrl,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = JSON.parse(res.body) as { access_token: string; expires_in: number };
    return { accessToken: body.access_token, expiresIn: body.expires_in };
  }
  requestHeaders(token: AccessToken) {
    return { 'x-acme-token': token.accessToken };
  }
}

let emulators: ProviderEmulators;
beforeAll(async () => {
  emulators = await startProviderEmulators();
});
afterAll(() => emulators.close());

function builtInProviders(e: ProviderEmulators) {
  const c = e.credentials;
  return [
    latamPass({ tokenUrl: e.tokenUrl('latam'), ...c.latam }),
    transatel({ tokenUrl: e.tokenUrl('transatel'), ...c.transatel }),
    payme({ tokenUrl: e.tokenUrl('payme'), ...c.payme }),
    prio({ tokenUrl: e.tokenUrl('prio'), ...c.prio }),
    sabre({ tokenUrl: e.tokenUrl('sabre'), ...c.sabre }),
  ];
}

let app: INestApplicationContext | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  emulators.reset();
});

/** The module as an app builds it: forRootAsync from injected settings, global. */
async function boot(extra: Partial<OAuthModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SettingsModule,
      OAuthModule.forRootAsync({
        isGlobal: true,
        imports: [SettingsModule],
        inject: [AcmeSettings],
        useFactory: (settings: AcmeSettings): OAuthModuleOptions => {
          Object.assign(settings, { tokenUrl: emulators.tokenUrl('oauth2'), ...emulators.credentials.oauth2 });
          return { providers: [...builtInProviders(emulators), AcmeStrategy], retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...extra };
        },
      }),
    ],
  }).compile();
  app = await moduleRef.init();
  return app.get(TokenService);
}

const providers: EmulatedProvider[] = ['latam', 'transatel', 'payme', 'prio', 'sabre'];

describe('OAuthModule.forRootAsync with the real HTTP client against the emulators', () => {
  it.each(providers)('%s: sends one token request for 100 concurrent callers', async (provider) => {
    const tokens = await boot();
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken(provider)));
    expect(emulators.tokenRequests(provider)).toHaveLength(1);
    expect(new Set(results.map((t) => t.accessToken)).size).toBe(1);
    // and the token works against the provider's API with the headers its strategy gives
    const res = await fetch(`${emulators.apiUrl(provider)}/echo`, { headers: { ...tokens.getRequestHeaders(results[0]) } });
    expect(res.status).toBe(200);
  });

  it('reads Sabre expires_in as seconds (7 days), not minutes', async () => {
    const tokens = await boot();
    const token = await tokens.getToken('sabre');
    expect(token.expiresAt - token.obtainedAt).toBe(604_800_000);
  });

  it('registers an app strategy class with its own injected dependencies', async () => {
    const tokens = await boot();
    const token = await tokens.getToken('acme');
    expect(await tokens.getRequestHeaders('acme')).toEqual({ 'x-acme-token': token.accessToken });
    expect(emulators.tokenRequests('oauth2')).toHaveLength(1);
  });

  it('gives up on a hanging token endpoint after the configured timeout, as unavailable', async () => {
    const tokens = await boot({ requestTimeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    emulators.failTokenEndpoint('prio', { kind: 'hang' });
    const error = await tokens.getToken('prio').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthProviderError);
    expect(error).toMatchObject({ kind: 'unavailable', code: 'timeout' });
    expect(emulators.tokenRequests('prio')).toHaveLength(2);
  });

  it('turns a LATAM WAF page into unavailable with the reference, never a JSON parse crash', async () => {
    const tokens = await boot({ retry: { maxAttempts: 1 } });
    emulators.failTokenEndpoint('latam', { kind: 'waf' });
    await expect(tokens.getToken('latam')).rejects.toMatchObject({
      kind: 'unavailable',
      description: expect.stringMatching(/Reference #18\./),
    });
  });

  it('retries a 429 with Retry-After and then succeeds', async () => {
    const tokens = await boot({ retry: { maxAttempts: 3, maxDelayMs: 2000 } });
    emulators.failTokenEndpoint('transatel', { kind: 'rate_limit', retryAfterSeconds: 1, times: 1 });
    await expect(tokens.getToken('transatel')).resolves.toMatchObject({ provider: 'transatel' });
    expect(emulators.tokenRequests('transatel')).toHaveLength(2);
  });

  it('does not retry wrong credentials and cools down (Prio locks out noisy clients)', async () => {
    const e = emulators;
    const moduleRef = await Test.createTestingModule({
      imports: [
        OAuthModule.forRoot({
          providers: [prio({ tokenUrl: e.tokenUrl('prio'), clientId: e.credentials.prio.clientId, clientSecret: 'wrong' })],
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    const tokens = app.get(TokenService);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => tokens.getToken('prio')));
    await Promise.allSettled(Array.from({ length: 50 }, () => tokens.getToken('prio')));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as OAuthProviderError).kind === 'rejected')).toBe(true);
    expect(e.tokenRequests('prio')).toHaveLength(1);
  });

  it('uses the Pay-me refresh token on renewal and falls back to the password grant when it is revoked', async () => {
    const tokens = await boot();
    const first = await tokens.getToken('payme');
    expect(first.refreshToken).toEqual(expect.any(String));
    await tokens.getToken('payme', { forceRefresh: true });
    const bodies = () => emulators.tokenRequests('payme').map((r) => (JSON.parse(r.body) as { grant_type: string }).grant_type);
    expect(bodies()).toEqual(['password', 'refresh_token']);
    emulators.revokeRefreshTokens('payme');
    await tokens.getToken('payme', { forceRefresh: true });
    expect(bodies()).toEqual(['password', 'refresh_token', 'refresh_token', 'password']);
  });
});

describe('OAuthModule start-up checks', () => {
  /** The error the app's start-up ends with, for these module options. */
  async function startupError(imports: Parameters<typeof Test.createTestingModule>[0]['imports']): Promise<unknown> {
    try {
      app = await (await Test.createTestingModule({ imports }).compile()).init();
    } catch (error) {
      return error;
    }
    throw new Error('expected start-up to fail');
  }

  it('says providers is missing, with an example, when forRootAsync gives no providers', async () => {
    const error = await startupError([OAuthModule.forRootAsync({ useFactory: () => ({}) as OAuthModuleOptions })]);
    expect(error).toBeInstanceOf(OAuthConfigurationError);
    expect((error as Error).message).toMatch(
      /^OAuthModule: providers is missing: give OAuthModule\.forRoot\(\{ providers: \[\.\.\.\] \}\)/,
    );
  });

  it('says providers is missing when forRoot gets options without it', async () => {
    expect(await startupError([OAuthModule.forRoot({} as OAuthModuleOptions)])).toMatchObject({
      name: 'OAuthConfigurationError',
      option: 'providers',
    });
  });

  it('names the entry of providers that is not a strategy', async () => {
    const providers = [
      prio({ tokenUrl: 'https://auth.example/token', clientId: 'a', clientSecret: 'b' }),
      { name: 'half' } as unknown as TokenStrategy,
    ];
    expect(await startupError([OAuthModule.forRoot({ providers })])).toMatchObject({
      provider: 'half',
      option: 'identity',
      message: 'OAuth provider "half": identity must be a string (token URL, client id, grant: never a secret)',
    });
    expect(await startupError([OAuthModule.forRoot({ providers: [null as unknown as TokenStrategy] })])).toMatchObject({
      option: 'providers[0]',
    });
    expect(await startupError([OAuthModule.forRoot({ providers: [{ identity: 'x' } as unknown as TokenStrategy] })])).toMatchObject({
      option: 'providers[0].name',
    });
  });

  it('refuses two providers of one name', async () => {
    const twice = () => prio({ tokenUrl: 'https://auth.example/token', clientId: 'a', clientSecret: 'b' });
    expect(await startupError([OAuthModule.forRoot({ providers: [twice(), twice()] })])).toMatchObject({
      message: 'OAuth provider "prio": name is given to two providers: each needs its own name',
    });
  });

  it('stops a forRootAsync start-up on a strategy built with an empty secret, before any token request', async () => {
    const error = await startupError([
      OAuthModule.forRootAsync({
        useFactory: () => ({ providers: [prio({ tokenUrl: emulators.tokenUrl('prio'), clientId: 'a', clientSecret: '' })] }),
      }),
    ]);
    expect(error).toMatchObject({ name: 'OAuthConfigurationError', provider: 'prio', option: 'clientSecret' });
    expect(emulators.tokenRequests('prio')).toHaveLength(0);
  });
});
