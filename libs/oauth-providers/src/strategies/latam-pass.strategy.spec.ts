import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { decodeBasic, strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { latamPass, LatamPassStrategy } from './latam-pass.strategy.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const strategy = (overrides: Partial<Parameters<typeof latamPass>[0]> = {}) =>
  latamPass({ tokenUrl: emu.tokenUrl('latam'), ...emu.credentials.latam, ...overrides });

const tokenOf = (accessToken: string): AccessToken => ({
  provider: 'latam',
  accessToken,
  tokenType: 'Bearer',
  expiresAt: 0,
  obtainedAt: 0,
});

describe('LatamPassStrategy', () => {
  it('is named latam unless told otherwise, and its identity holds no secret', () => {
    const s = strategy();
    expect(s).toBeInstanceOf(LatamPassStrategy);
    expect(s.name).toBe('latam');
    expect(strategy({ name: 'latam-br' }).name).toBe('latam-br');
    expect(s.identity).toBe(`${emu.tokenUrl('latam')}|${emu.credentials.latam.clientId}|client_credentials`);
    expect(s.identity).not.toContain(emu.credentials.latam.clientSecret);
  });

  it('sends POST with raw Basic, the client_id header, a form content type and grant_type=client_credentials', async () => {
    const ctx = strategyContext();
    await strategy().requestToken(ctx);
    const { clientId, clientSecret } = emu.credentials.latam;
    expect(ctx.http.requests).toEqual([
      {
        url: emu.tokenUrl('latam'),
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          client_id: clientId,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      },
    ]);
    const [received] = emu.tokenRequests('latam');
    expect(received).toMatchObject({ method: 'POST', body: 'grant_type=client_credentials' });
    expect(received.headers.client_id).toBe(clientId);
    expect(received.headers['x-latam-test']).toBeUndefined();
  });

  it('sends raw Basic credentials, not form-encoded (secret with :, %, +, /, =)', async () => {
    await strategy().requestToken(strategyContext());
    expect(decodeBasic(emu.tokenRequests('latam')[0].headers.authorization)).toBe(
      `${emu.credentials.latam.clientId}:${emu.credentials.latam.clientSecret}`,
    );
  });

  it("adds x-latam-test: LatamPass only in LATAM's test environment", async () => {
    await strategy({ testEnvironment: true }).requestToken(strategyContext());
    expect(emu.tokenRequests('latam')[0].headers['x-latam-test']).toBe('LatamPass');
  });

  it('reads access_token and expires_in (LATAM sends no token_type)', async () => {
    const grant = await strategy().requestToken(strategyContext());
    expect(grant.accessToken).toMatch(/\+.*\/.*=/);
    expect(grant.expiresIn).toBe(3600);
    expect(grant.tokenType).toBeUndefined();
  });

  it('passes an unusable expires_in through raw for the service to judge', async () => {
    emu.setTokenLifetime('latam', 'abc');
    expect((await strategy().requestToken(strategyContext())).expiresIn).toBe('abc');
    emu.setTokenLifetime('latam', undefined);
    expect((await strategy().requestToken(strategyContext())).expiresIn).toBeUndefined();
  });

  it('maps 400 "Invalid secret in Authorization header" to rejected, code INVALID', async () => {
    const error = await providerErrorOf(strategy({ clientSecret: 'wrong' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      provider: 'latam',
      kind: 'rejected',
      status: 400,
      code: 'INVALID',
      description: 'Invalid secret in Authorization header',
    });
  });

  it('maps 400 "Invalid client_id in Authorization header" to rejected', async () => {
    const error = await providerErrorOf(strategy({ clientId: 'someone-else' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      kind: 'rejected',
      status: 400,
      code: 'INVALID',
      description: 'Invalid client_id in Authorization header',
    });
  });

  it('maps 400 "Invalid grant_type format" to rejected', async () => {
    const body = JSON.stringify({ result: 'failure', errors: [{ type: 'INVALID', message: 'Invalid grant_type format' }], status: 400 });
    emu.failTokenEndpoint('latam', { kind: 'garbage', status: 400, contentType: 'application/json', body, times: 1 });
    const error = await providerErrorOf(strategy().requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'rejected', status: 400, code: 'INVALID', description: 'Invalid grant_type format' });
  });

  it("maps LATAM's Akamai WAF 403 HTML page to unavailable, never parsing it as JSON", async () => {
    emu.failTokenEndpoint('latam', { kind: 'waf', times: 1 });
    const error = await providerErrorOf(strategy().requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'unavailable', status: 403 });
    expect(error.description).toMatch(/^request blocked by the provider's firewall \(Reference #18\./);
  });

  it('hands the API client_id + access_token headers, never Authorization, and the emulated API accepts them', async () => {
    const s = strategy({ testEnvironment: true });
    const grant = await s.requestToken(strategyContext());
    const headers = s.requestHeaders(tokenOf(grant.accessToken));
    expect(headers).toEqual({ client_id: emu.credentials.latam.clientId, access_token: grant.accessToken, 'x-latam-test': 'LatamPass' });
    const res = await fetch(`${emu.apiUrl('latam')}/echo`, { headers });
    expect(res.status).toBe(200);
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'latam', strategy: strategy() }), { expires_in: 3600 });
});
