import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { payme, PaymeStrategy } from './payme.strategy.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const DEFAULT_SCOPE = 'create:token post:charges offline_access';
const strategy = (overrides: Partial<Parameters<typeof payme>[0]> = {}) =>
  payme({ tokenUrl: emu.tokenUrl('payme'), ...emu.credentials.payme, ...overrides });
const clientCredentials = (overrides: Partial<Parameters<typeof payme>[0]> = {}) =>
  strategy({ username: undefined, password: undefined, ...overrides });
const envelope = (success: boolean, code: string, value: string) => ({
  action: 'authorize',
  success,
  authorization: { meta: { status: { code, message_ilgn: [{ locale: 'es_PE', value }] } } },
});
const serve = (status: number, body: object) =>
  emu.failTokenEndpoint('payme', { kind: 'garbage', status, contentType: 'application/json', body: JSON.stringify(body), times: 1 });

describe('PaymeStrategy', () => {
  it('is named payme unless told otherwise; its identity holds grant, scope, user and audience but no secret', () => {
    const s = strategy();
    expect(s).toBeInstanceOf(PaymeStrategy);
    expect(s.name).toBe('payme');
    expect(strategy({ name: 'payme-pe' }).name).toBe('payme-pe');
    const { clientId, username, audience, clientSecret, password } = emu.credentials.payme;
    expect(s.identity).toBe(`${emu.tokenUrl('payme')}|${clientId}|password|${DEFAULT_SCOPE}|${username}|${audience}`);
    expect(s.identity).not.toContain(clientSecret);
    expect(s.identity).not.toContain(password);
  });

  it('sends the password grant as JSON with action "authorize", ALG-API-VERSION and no Basic', async () => {
    const ctx = strategyContext();
    await strategy().requestToken(ctx);
    const { clientId, clientSecret, audience, username, password } = emu.credentials.payme;
    const [request] = ctx.http.requests;
    expect(request.url).toBe(emu.tokenUrl('payme'));
    expect(request.headers).toEqual({ 'content-type': 'application/json', 'alg-api-version': '1618440906' });
    expect(JSON.parse(request.body)).toEqual({
      action: 'authorize',
      grant_type: 'password',
      username,
      password,
      client_id: clientId,
      client_secret: clientSecret,
      audience,
      scope: DEFAULT_SCOPE,
    });
    expect(emu.tokenRequests('payme')[0].headers.authorization).toBeUndefined();
  });

  it('uses the client_credentials grant when no username/password is configured', async () => {
    await clientCredentials().requestToken(strategyContext());
    const body = JSON.parse(emu.tokenRequests('payme')[0].body) as Record<string, unknown>;
    expect(body.grant_type).toBe('client_credentials');
    expect(body).not.toHaveProperty('username');
    expect(body).not.toHaveProperty('password');
  });

  it('sends the configured ALG-API-VERSION and scope', async () => {
    await strategy({ apiVersion: '1709847567', scope: 'create:token' }).requestToken(strategyContext());
    const [received] = emu.tokenRequests('payme');
    expect(received.headers['alg-api-version']).toBe('1709847567');
    expect((JSON.parse(received.body) as { scope: string }).scope).toBe('create:token');
  });

  it('reads the token and a refresh_token when offline_access was asked for', async () => {
    const grant = await strategy().requestToken(strategyContext());
    expect(grant).toMatchObject({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 86400,
      scope: DEFAULT_SCOPE,
      refreshToken: expect.any(String),
    });
  });

  it('gets no refresh_token without offline_access', async () => {
    expect((await strategy({ scope: 'create:token post:charges' }).requestToken(strategyContext())).refreshToken).toBeUndefined();
  });

  it('renews with grant_type refresh_token and the same action, client, audience and scope', async () => {
    const s = strategy();
    const first = await s.requestToken(strategyContext());
    const ctx = strategyContext();
    const renewed = await s.refreshToken(first.refreshToken!, ctx);
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect(renewed.refreshToken).toBeUndefined();
    const { clientId, clientSecret, audience } = emu.credentials.payme;
    expect(JSON.parse(ctx.http.requests[0].body)).toEqual({
      action: 'authorize',
      grant_type: 'refresh_token',
      refresh_token: first.refreshToken,
      client_id: clientId,
      client_secret: clientSecret,
      audience,
      scope: DEFAULT_SCOPE,
    });
  });

  it('maps a refused refresh token to rejected (so the service falls back to the primary grant)', async () => {
    const s = strategy();
    const first = await s.requestToken(strategyContext());
    emu.revokeRefreshTokens('payme');
    expect(await providerErrorOf(s.refreshToken(first.refreshToken!, strategyContext()))).toMatchObject({
      kind: 'rejected',
      status: 401,
      code: '01',
      description: 'Invalid refresh token',
    });
  });

  it('maps success:false code "01" with HTTP 401 to rejected with the message_ilgn value', async () => {
    const error = await providerErrorOf(strategy({ password: 'wrong' }).requestToken(strategyContext()));
    expect(error).toMatchObject({ provider: 'payme', kind: 'rejected', status: 401, code: '01', description: 'Wrong email or password.' });
  });

  it('maps success:false code "01" with HTTP 400 to rejected', async () => {
    const error = await providerErrorOf(strategy({ audience: 'https://elsewhere' }).requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'rejected', status: 400, code: '01', description: 'Invalid audience' });
  });

  it('maps success:false with HTTP 200 to rejected, even when an access_token is present', async () => {
    serve(200, { ...envelope(false, '01', 'Comercio inactivo'), access_token: 'looks-valid' });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'rejected',
      status: 200,
      code: '01',
      description: 'Comercio inactivo',
    });
  });

  it('maps success:true with a status code other than "00" to rejected', async () => {
    serve(200, { ...envelope(true, '01', 'Error'), access_token: 'x' });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({ kind: 'rejected', code: '01' });
  });

  it('maps a plain OAuth answer without the Pay-me envelope to invalid_response', async () => {
    serve(200, { access_token: 'x', token_type: 'Bearer', expires_in: 86400 });
    expect((await providerErrorOf(strategy().requestToken(strategyContext()))).kind).toBe('invalid_response');
  });

  it('maps a 5xx Pay-me envelope to unavailable', async () => {
    emu.failTokenEndpoint('payme', { kind: 'status', status: 503, times: 1 });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'unavailable',
      status: 503,
      code: '01',
      description: 'Servicio no disponible, intente nuevamente',
    });
  });

  it('hands the API Bearer plus ALG-API-VERSION, which the emulated API accepts', async () => {
    const s = strategy({ apiVersion: '1709847567' });
    const grant = await s.requestToken(strategyContext());
    const token: AccessToken = { provider: 'payme', accessToken: grant.accessToken, tokenType: 'Bearer', expiresAt: 0, obtainedAt: 0 };
    const headers = s.requestHeaders(token);
    expect(headers).toEqual({ authorization: `Bearer ${grant.accessToken}`, 'alg-api-version': '1709847567' });
    expect((await fetch(`${emu.apiUrl('payme')}/charges`, { headers })).status).toBe(200);
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'payme', strategy: strategy() }), {
    ...envelope(true, '00', 'Access Token creado'),
    expires_in: 86400,
    token_type: 'Bearer',
  });
});
