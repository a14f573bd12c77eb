import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { decodeBasic, strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import { sabre, SabreStrategy } from './sabre.strategy.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const strategy = (overrides: Partial<Parameters<typeof sabre>[0]> = {}) =>
  sabre({ tokenUrl: emu.tokenUrl('sabre'), ...emu.credentials.sabre, ...overrides });

describe('SabreStrategy', () => {
  it('is named sabre unless told otherwise; its identity names the EPR user but no secret or password', () => {
    const s = strategy();
    expect(s).toBeInstanceOf(SabreStrategy);
    expect(s.name).toBe('sabre');
    expect(strategy({ name: 'sabre-cert' }).name).toBe('sabre-cert');
    expect(s.identity).toBe(`${emu.tokenUrl('sabre')}|${emu.credentials.sabre.clientId}|password||${emu.credentials.sabre.username}`);
    expect(s.identity).not.toContain(emu.credentials.sabre.clientSecret);
    expect(s.identity).not.toContain(emu.credentials.sabre.password);
  });

  it('sends the v3 password grant: raw Basic, form content type, EPR username and password in the body', async () => {
    const ctx = strategyContext();
    await strategy().requestToken(ctx);
    const { clientId, clientSecret, username, password } = emu.credentials.sabre;
    expect(ctx.http.requests).toEqual([
      {
        url: emu.tokenUrl('sabre'),
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
      },
    ]);
    const form = new URLSearchParams(emu.tokenRequests('sabre')[0].body);
    expect(form.get('password')).toBe(password);
  });

  it('sends single raw base64 Basic of clientId:clientSecret, not form-encoded', async () => {
    await strategy().requestToken(strategyContext());
    expect(decodeBasic(emu.tokenRequests('sabre')[0].headers.authorization)).toBe(
      `${emu.credentials.sabre.clientId}:${emu.credentials.sabre.clientSecret}`,
    );
  });

  it('reads the T1RLAQ…** token and expires_in 604800 as seconds, passed through raw', async () => {
    const grant = await strategy().requestToken(strategyContext());
    expect(grant.accessToken).toMatch(/^T1RLAQ.+\*\*$/);
    expect(grant).toMatchObject({ tokenType: 'bearer', expiresIn: 604800 });
  });

  it('maps 401 invalid_client "Wrong clientID or clientSecret" (bad EPR password) to rejected', async () => {
    const error = await providerErrorOf(strategy({ password: 'wrong' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      provider: 'sabre',
      kind: 'rejected',
      status: 401,
      code: 'invalid_client',
      description: 'Wrong clientID or clientSecret',
    });
    expect(error.message).not.toContain('wrong');
  });

  it.each([
    ['invalid_request', 'Invalid payload: grant_type must be specified'],
    ['invalid_request', "Invalid grant type. The only supported type is 'password'"],
    ['invalid_request', 'HTTP method not allowed'],
    ['invalid_request', 'Incorrect Content-Type. Only application/x-www-form-urlencoded is allowed'],
    ['invalid_client', 'Credentials are missing or the syntax is not correct'],
  ])('maps the all-401 %s "%s" to rejected', async (code, description) => {
    const body = JSON.stringify({ error: code, error_description: description });
    emu.failTokenEndpoint('sabre', { kind: 'garbage', status: 401, contentType: 'application/json', body, times: 1 });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'rejected',
      status: 401,
      code,
      description,
    });
  });

  it("maps the gateway's 429 ERR.2SG.GATEWAY.REQUEST_THROTTLED to unavailable", async () => {
    emu.failTokenEndpoint('sabre', { kind: 'rate_limit', retryAfterSeconds: 2, times: 1 });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'unavailable',
      status: 429,
      code: 'ERR.2SG.GATEWAY.REQUEST_THROTTLED',
      description: 'Request throttled',
      retryAfterMs: 2000,
    });
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'sabre', strategy: strategy() }), {
    expires_in: 604800,
    token_type: 'bearer',
  });
});
