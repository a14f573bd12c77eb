import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { decodeBasic, strategyContext, providerErrorOf } from '../../test-support/strategy-context.js';
import { itTurnsHostileAnswersIntoProviderErrors } from '../../test-support/hostile-answers.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { prio, PrioStrategy } from './prio.strategy.js';

let emu: ProviderEmulators;
beforeAll(async () => {
  emu = await startProviderEmulators();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

const SCOPE = 'https://www.prioticketapis.com/auth/distributor.booking';
const strategy = (overrides: Partial<Parameters<typeof prio>[0]> = {}) =>
  prio({ tokenUrl: emu.tokenUrl('prio'), ...emu.credentials.prio, ...overrides });
const referenced = (status: number, error: string, message: string) =>
  JSON.stringify({ error, error_reference: 'e7c1a9d2-ref', error_message: message, errors: [] });

describe('PrioStrategy', () => {
  it('is named prio unless told otherwise, and its identity holds no secret', () => {
    expect(strategy()).toBeInstanceOf(PrioStrategy);
    expect(strategy().name).toBe('prio');
    expect(strategy({ name: 'prio-staging' }).name).toBe('prio-staging');
    expect(strategy({ scope: SCOPE }).identity).toBe(
      `${emu.tokenUrl('prio')}|${emu.credentials.prio.clientId}|client_credentials|${SCOPE}`,
    );
  });

  it('sends POST with raw Basic, JSON content type, Accept: application/json and a JSON body', async () => {
    const ctx = strategyContext();
    await strategy({ scope: SCOPE }).requestToken(ctx);
    const { clientId, clientSecret } = emu.credentials.prio;
    expect(ctx.http.requests).toEqual([
      {
        url: emu.tokenUrl('prio'),
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({ grant_type: 'client_credentials', scope: SCOPE }),
      },
    ]);
    expect(emu.tokenRequests('prio')[0].headers.accept).toBe('application/json');
  });

  it('leaves scope out of the body when not configured', async () => {
    await strategy().requestToken(strategyContext());
    expect(JSON.parse(emu.tokenRequests('prio')[0].body)).toEqual({ grant_type: 'client_credentials' });
  });

  it('sends real base64 Basic of the raw id:secret, not a literal "Basic username:password"', async () => {
    await strategy().requestToken(strategyContext());
    expect(decodeBasic(emu.tokenRequests('prio')[0].headers.authorization)).toBe(
      `${emu.credentials.prio.clientId}:${emu.credentials.prio.clientSecret}`,
    );
  });

  it('reads access_token, token_type, expires_in and scope', async () => {
    expect(await strategy({ scope: SCOPE }).requestToken(strategyContext())).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: SCOPE,
    });
  });

  it('maps OAuth-style 401 invalid_client to rejected', async () => {
    const error = await providerErrorOf(strategy({ clientSecret: 'nope' }).requestToken(strategyContext()));
    expect(error).toMatchObject({
      provider: 'prio',
      kind: 'rejected',
      status: 401,
      code: 'invalid_client',
      description: 'Client authentication failed',
    });
  });

  it('maps OAuth-style 400 invalid_request to rejected', async () => {
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: 'The grant_type parameter is missing.',
      error_uri: 'https://x',
    });
    emu.failTokenEndpoint('prio', { kind: 'garbage', status: 400, contentType: 'application/json', body, times: 1 });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind: 'rejected',
      status: 400,
      code: 'invalid_request',
      description: 'The grant_type parameter is missing.',
    });
  });

  it.each([
    [405, 'METHOD_NOT_ALLOWED', 'rejected'],
    [406, 'NOT_ACCEPTABLE', 'rejected'],
    [422, 'UNPROCESSABLE_ENTITY', 'rejected'],
    [429, 'TOO_MANY_REQUESTS', 'unavailable'],
    [500, 'INTERNAL_SERVER_ERROR', 'unavailable'],
    [502, 'BAD_GATEWAY', 'unavailable'],
  ] as const)('maps the error_reference style %i %s to %s, keeping the reference', async (status, code, kind) => {
    emu.failTokenEndpoint('prio', {
      kind: 'garbage',
      status,
      contentType: 'application/json',
      body: referenced(status, code, 'Something went wrong.'),
      times: 1,
    });
    expect(await providerErrorOf(strategy().requestToken(strategyContext()))).toMatchObject({
      kind,
      status,
      code,
      description: 'Something went wrong. (reference e7c1a9d2-ref)',
    });
  });

  it('sends the API Authorization as "<token_type> <access_token>"', () => {
    const token: AccessToken = { provider: 'prio', accessToken: 'a+b/c=', tokenType: 'Bearer', expiresAt: 0, obtainedAt: 0 };
    expect(strategy().requestHeaders(token)).toEqual({ authorization: 'Bearer a+b/c=' });
  });

  itTurnsHostileAnswersIntoProviderErrors(() => ({ emu, endpoint: 'prio', strategy: strategy() }), {
    token_type: 'Bearer',
    expires_in: 3600,
  });
});
