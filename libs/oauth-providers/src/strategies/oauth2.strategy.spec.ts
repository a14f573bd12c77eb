import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { decodeBasic, strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import { oauth2, OAuth2Strategy } from './oauth2.strategy.js';
import { rawBasicAuthorization } from './token-wire.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const strategy = (overrides: Partial<Parameters<typeof oauth2>[0]> = {}) => {
  const { clientId, clientSecret } = emu.credentials.oauth2;
  return oauth2({ name: 'acme', tokenUrl: emu.tokenUrl('oauth2'), clientId, clientSecret, ...overrides });
};

describe('OAuth2Strategy', () => {
  it('takes its name from the configuration; its identity holds no secret', () => {
    const s = strategy({ scope: 'read', audience: 'https://api' });
    expect(s).toBeInstanceOf(OAuth2Strategy);
    expect(s.name).toBe('acme');
    expect(s.identity).toBe(
      `${emu.tokenUrl('oauth2')}|${emu.credentials.oauth2.clientId}|client_credentials|read||https://api||client_secret_basic`,
    );
    expect(s.identity).not.toContain(emu.credentials.oauth2.clientSecret);
  });

  it('refuses a password grant without username and password at construction', () => {
    expect(() => strategy({ grantType: 'password' })).toThrow('OAuth provider "acme": username must be a non-empty string');
  });

  it('sends client_secret_basic with id and secret form-urlencoded first (RFC 6749 §2.3.1)', async () => {
    const ctx = strategyContext();
    await strategy().requestToken(ctx);
    const { clientId, clientSecret } = emu.credentials.oauth2;
    expect(ctx.http.requests).toEqual([
      {
        url: emu.tokenUrl('oauth2'),
        headers: {
          authorization: rawBasicAuthorization(
            new URLSearchParams({ x: clientId }).toString().slice(2),
            new URLSearchParams({ x: clientSecret }).toString().slice(2),
          ),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
      },
    ]);
    // 'gateway client/1' : 'o2:%41+b/c==' → 'gateway+client%2F1:o2%3A%2541%2Bb%2Fc%3D%3D'
    expect(decodeBasic(emu.tokenRequests('oauth2')[0].headers.authorization)).toBe('gateway+client%2F1:o2%3A%2541%2Bb%2Fc%3D%3D');
  });

  it('sends client_secret_post as body fields and no Authorization', async () => {
    const ctx = strategyContext();
    await strategy({ authMethod: 'client_secret_post', scope: 'read write' }).requestToken(ctx);
    expect(ctx.http.requests[0].headers.authorization).toBeUndefined();
    const form = new URLSearchParams(emu.tokenRequests('oauth2')[0].body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      scope: 'read write',
      client_id: emu.credentials.oauth2.clientId,
      client_secret: emu.credentials.oauth2.clientSecret,
    });
  });

  it('sends the password grant with username, password, scope and audience', async () => {
    const { username, password } = emu.credentials.oauth2;
    await strategy({ grantType: 'password', username, password, scope: 'read', audience: 'https://api.acme.test' }).requestToken(
      strategyContext(),
    );
    const body = Object.fromEntries(new URLSearchParams(emu.tokenRequests('oauth2')[0].body));
    expect(body).toEqual({ grant_type: 'password', username, password, scope: 'read', audience: 'https://api.acme.test' });
  });

  it('reads access_token, token_type, expires_in and scope', async () => {
    expect(await strategy({ scope: 'read' }).requestToken(strategyContext())).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: 'read',
    });
  });

  it('maps 401 invalid_client (raw Basic would be this) to rejected', async () => {
    const error = await providerErrorOf(strategy({ clientSecret: 'nope' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      provider: 'acme',
      kind: 'rejected',
      status: 401,
      code: 'invalid_client',
      description: 'Client authentication failed',
    });
  });

  it('maps 400 invalid_grant (wrong resource owner password) to rejected', async () => {
    const s = strategy({ grantType: 'password', username: emu.credentials.oauth2.username, password: 'nope' });
    expect(await providerErrorOf(s.requestToken(strategyContext()))).toMatchObject({
      kind: 'rejected',
      status: 400,
      code: 'invalid_grant',
    });
  });

  it('maps 503 temporarily_unavailable to unavailable', async () => {
    emu.failTokenEndpoint('oauth2', { kind: 'status', status: 503, times: 1 });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'unavailable',
      status: 503,
      code: 'temporarily_unavailable',
    });
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'oauth2', strategy: strategy() }), {
    token_type: 'Bearer',
    expires_in: 3600,
  });
});
