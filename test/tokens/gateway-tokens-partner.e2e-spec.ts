import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startMisbehavingTokenServer,
  type MisbehavingTokenServer,
} from '../../libs/oauth-providers/test-support/misbehaving-token-server.js';
import { FAST_RETRY, getAsAdmin as get, problemOf, startHarness, until, type Harness } from '../support/gateway-harness.js';

interface TokensBody {
  providers: Array<{ provider: string; state: string; lastError?: { kind: string; code?: string; description?: string } }>;
}

describe('a token endpoint that trickles its answer', () => {
  const retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2000 };
  const timeoutMs = 300;
  let partner: MisbehavingTokenServer;
  let h: Harness;
  beforeAll(async () => {
    // 200, Content-Length 100000, then one byte every 50 ms: never idle, never complete.
    partner = await startMisbehavingTokenServer({ kind: 'trickle', everyMs: 50 });
    h = await startHarness({ ACME_TOKEN_URL: partner.url, TOKEN_REQUEST_TIMEOUT_MS: String(timeoutMs) }, { oauth: { retry } });
  });
  afterAll(async () => {
    await h.close();
    await partner.close();
  });

  it('answers waiting callers 503 token_unavailable with Retry-After once the retry budget is spent, and /tokens shows why', async () => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(h, '/acme/things')));
    expect(Date.now() - started).toBeLessThan(retry.maxTotalMs + timeoutMs + 1000);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(problemOf(answer)).toMatchObject({ code: 'token_unavailable', provider: 'acme' });
    }
    expect(partner.requests).toBe(retry.maxAttempts); // one renewal for every caller, each attempt cut
    const { providers } = JSON.parse((await get(h, '/tokens')).body) as TokensBody;
    expect(providers.find((p) => p.provider === 'acme')).toMatchObject({
      state: 'circuit_open',
      lastError: { kind: 'unavailable', code: 'timeout' },
    });
  });
});

describe('a token endpoint answering what cannot be a token', () => {
  let partner: MisbehavingTokenServer;
  let h: Harness;
  beforeAll(async () => {
    partner = await startMisbehavingTokenServer({ kind: 'grant', body: {} });
    h = await startHarness({ ACME_TOKEN_URL: partner.url }, { oauth: { retry: FAST_RETRY, circuitBreaker: { failureThreshold: 1000 } } });
  });
  afterAll(async () => {
    await h.close();
    await partner.close();
  });

  it.each([
    ['a CR LF', 'zQtoken\r\nx-injected: 1'],
    ['a NUL', 'zQtoken\u0000def'],
    ['a character above U+00FF', 'zQtoken\u0100def'],
    ['a Latin-1 character', 'zQtoken\u00e9def'],
  ])('never caches a token holding %s: callers get 503 token_unavailable naming the field, /tokens is not valid', async (_label, token) => {
    partner.behave({ kind: 'grant', body: { access_token: token, token_type: 'Bearer', expires_in: 3600 } });
    const answer = await get(h, '/acme/things');
    expect(answer.status).toBe(503);
    expect(problemOf(answer)).toMatchObject({ code: 'token_unavailable', provider: 'acme' });
    expect(problemOf(answer).detail).toContain('access_token');
    expect(answer.body).not.toContain('zQtoken');
    const { providers } = JSON.parse((await get(h, '/tokens')).body) as TokensBody;
    expect(providers.find((p) => p.provider === 'acme')).toMatchObject({ state: 'failing', lastError: { kind: 'invalid_response' } });
  });

  it('never caches a token_type holding a line break', async () => {
    partner.behave({ kind: 'grant', body: { access_token: 'fine-token', token_type: 'Bearer\r\nx: 1', expires_in: 3600 } });
    const answer = await get(h, '/acme/things');
    expect(answer.status).toBe(503);
    expect(problemOf(answer).detail).toContain('token_type');
  });

  it('describes an answer over the size cap and a redirect for what they are', async () => {
    partner.behave({ kind: 'oversize', bytes: 300 * 1024 });
    expect(problemOf(await get(h, '/acme/things')).detail).toBe('answer larger than 262144 bytes');
    partner.behave({ kind: 'redirect', status: 307, location: 'http://127.0.0.1:1/elsewhere' });
    expect(problemOf(await get(h, '/acme/things')).detail).toBe('redirect to another location (not followed)');
  });
});

describe('callers cannot make the gateway ask for tokens at will', () => {
  const intervalMs = 1000;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ TOKEN_MIN_INTERVAL_MS: String(intervalMs) });
  });
  afterAll(() => h.close());
  afterEach(() => h.emulators.clearFailures('sabre'));

  it('makes at most 2 + elapsed / TOKEN_MIN_INTERVAL_MS token requests for 100 sequential requests the API answers 401', async () => {
    await get(h, '/sabre/warm-up');
    const before = h.emulators.tokenRequests('sabre').length;
    const apiBefore = h.emulators.apiRequests('sabre');
    const started = Date.now();
    for (let i = 0; i < 100; i++) expect((await get(h, '/sabre/status/401')).status).toBe(401);
    const elapsed = Date.now() - started;
    const tokenRequests = h.emulators.tokenRequests('sabre').length - before;
    expect(tokenRequests).toBeLessThanOrEqual(2 + elapsed / intervalMs);
    // A 401 while no renewal may start is passed through: no replay with the same refused token.
    expect(h.emulators.apiRequests('sabre') - apiBefore).toBeLessThanOrEqual(100 + tokenRequests);
  });

  it('renews and replays once on the first 401 after the interval', async () => {
    const current = await h.tokens.getToken('prio');
    h.emulators.revokeTokens('prio');
    await until(() => h.tokens.mayRenew('prio', current.accessToken), 'a renewal of prio to be allowed');
    const before = h.emulators.tokenRequests('prio').length;
    expect((await get(h, '/prio/products')).status).toBe(200);
    expect(h.emulators.tokenRequests('prio').length).toBe(before + 1);
  });
});
