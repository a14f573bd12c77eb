import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { decodeBasic, strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import type { TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { transatel, TransatelStrategy } from './transatel.strategy.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const strategy = (overrides: Partial<Parameters<typeof transatel>[0]> = {}) =>
  transatel({ tokenUrl: emu.tokenUrl('transatel'), ...emu.credentials.transatel, ...overrides });

describe('TransatelStrategy', () => {
  it('is named transatel unless told otherwise, and its identity holds the scope but no secret', () => {
    expect(strategy()).toBeInstanceOf(TransatelStrategy);
    expect(strategy().name).toBe('transatel');
    expect(strategy({ name: 'transatel-eu' }).name).toBe('transatel-eu');
    const s = strategy({ scope: 'USER_READ' });
    expect(s.identity).toBe(`${emu.tokenUrl('transatel')}|ocs-subscription|client_credentials|USER_READ`);
    expect(s.identity).not.toContain(emu.credentials.transatel.clientSecret);
  });

  it('sends POST with raw Basic, a form content type and grant_type=client_credentials, scope only when set', async () => {
    const ctx = strategyContext();
    await strategy().requestToken(ctx);
    await strategy({ scope: 'USER_READ CATALOG_PRODUCTS_READ' }).requestToken(ctx);
    const { clientId, clientSecret } = emu.credentials.transatel;
    expect(ctx.http.requests[0]).toEqual({
      url: emu.tokenUrl('transatel'),
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(emu.tokenRequests('transatel').map((r) => r.body)).toEqual([
      'grant_type=client_credentials',
      'grant_type=client_credentials&scope=USER_READ+CATALOG_PRODUCTS_READ',
    ]);
  });

  it('sends raw Basic credentials, not form-encoded (ocs-subscription, secret with %/+=)', async () => {
    await strategy().requestToken(strategyContext());
    expect(decodeBasic(emu.tokenRequests('transatel')[0].headers.authorization)).toBe(
      `ocs-subscription:${emu.credentials.transatel.clientSecret}`,
    );
  });

  it('reads access_token, the lower-case bearer token_type, expires_in and scope', async () => {
    const grant = await strategy({ scope: 'USER_READ' }).requestToken(strategyContext());
    expect(grant).toMatchObject({ accessToken: expect.any(String), tokenType: 'bearer', expiresIn: 3600, scope: 'USER_READ' });
  });

  it('maps 401 invalid_client "Client authentication failed" to rejected', async () => {
    const error = await providerErrorOf(strategy({ clientSecret: 'wrong' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      provider: 'transatel',
      kind: 'rejected',
      status: 401,
      code: 'invalid_client',
      description: 'Client authentication failed',
    });
  });

  it('maps 400 invalid_request "Missing credentials" to rejected', async () => {
    const body = JSON.stringify({ error: 'invalid_request', error_description: 'Missing credentials' });
    emu.failTokenEndpoint('transatel', { kind: 'garbage', status: 400, contentType: 'application/json;charset=UTF-8', body, times: 1 });
    const error = await providerErrorOf(strategy().requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'rejected', status: 400, code: 'invalid_request', description: 'Missing credentials' });
  });

  it('maps 400 invalid_scope to rejected', async () => {
    const error = await providerErrorOf(strategy({ scope: 'ADMIN' }).requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'rejected', status: 400, code: 'invalid_scope', description: 'Invalid scope: ADMIN' });
  });

  it("reads the detail of an RFC 7807 problem from Transatel's gateway", async () => {
    emu.failTokenEndpoint('transatel', { kind: 'status', status: 500, times: 1 });
    const error = await providerErrorOf(strategy().requestToken(strategyContext()));
    expect(error).toMatchObject({
      kind: 'unavailable',
      status: 500,
      description: 'The service is temporarily unable to handle the request',
    });
  });

  it('needs no requestHeaders: the service default Authorization: Bearer is what the emulated API takes', async () => {
    const s: TokenStrategy = strategy();
    expect(typeof s.requestHeaders).toBe('undefined');
    const { accessToken } = await s.requestToken(strategyContext());
    expect((await fetch(`${emu.apiUrl('transatel')}/echo`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'transatel', strategy: strategy() }), {
    token_type: 'bearer',
    expires_in: 3600,
    scope: 'USER_READ',
  });
});
