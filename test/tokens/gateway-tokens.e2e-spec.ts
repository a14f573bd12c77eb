import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getAsAdmin as get, KEY_ALL, KEY_LATAM_PRIO, problemOf, send, startHarness, type Harness } from '../support/gateway-harness.js';

describe('tokens on the request path', () => {
  let h: Harness;
  beforeAll(async () => {
    // LATAM with a wrong secret: its token endpoint refuses every request.
    h = await startHarness({ LATAM_CLIENT_SECRET: 'lp:definitely-wrong-secret' });
  });
  afterAll(() => h.close());

  it("answers 502 token_rejected with the provider's own message when the credentials are refused", async () => {
    const before = h.emulators.apiRequests('latam');
    const answer = await get(h, '/latam/loyalty/members');
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(answer)).toMatchObject({
      type: 'about:blank',
      status: 502,
      code: 'token_rejected',
      provider: 'latam',
      detail: 'Invalid secret in Authorization header',
      requestId: answer.headers['x-request-id'],
    });
    expect(h.emulators.apiRequests('latam')).toBe(before);
  });

  it('answers 503 token_unavailable with Retry-After when the token endpoint rate-limits', async () => {
    h.emulators.failTokenEndpoint('transatel', { kind: 'rate_limit', retryAfterSeconds: 7 });
    try {
      const answer = await get(h, '/transatel/subscriptions');
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('7');
      expect(problemOf(answer)).toMatchObject({ code: 'token_unavailable', provider: 'transatel' });
    } finally {
      h.emulators.clearFailures('transatel');
    }
  });

  it('answers 503 token_unavailable when the token endpoint answers a WAF page', async () => {
    h.emulators.failTokenEndpoint('payme', { kind: 'waf' });
    try {
      const answer = await get(h, '/payme/charges');
      expect(answer.status).toBe(503);
      expect(problemOf(answer)).toMatchObject({ code: 'token_unavailable', provider: 'payme' });
    } finally {
      h.emulators.clearFailures('payme');
    }
  });

  it('uses a cached token without asking the token endpoint again', async () => {
    await get(h, '/prio/products');
    const tokenCalls = h.emulators.tokenRequests('prio').length;
    for (let i = 0; i < 5; i++) expect((await get(h, '/prio/products')).status).toBe(200);
    expect(h.emulators.tokenRequests('prio').length).toBe(tokenCalls);
  });

  it('renews a token the API refuses (401) and replays the request once, body included', async () => {
    await get(h, '/prio/products');
    h.emulators.revokeTokens('prio');
    const tokenCalls = h.emulators.tokenRequests('prio').length;
    const apiCalls = h.emulators.apiRequests('prio');
    const body = JSON.stringify({ booking: 'B-1' });
    const answer = await send(h.url, '/prio/bookings', {
      method: 'POST',
      headers: { 'x-api-key': KEY_ALL, 'content-type': 'application/json' },
      body,
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'POST', bodyBytes: body.length });
    expect(h.emulators.tokenRequests('prio').length).toBe(tokenCalls + 1);
    expect(h.emulators.apiRequests('prio')).toBe(apiCalls + 2);
  });

  it('returns a second 401 to the caller as it is, after exactly one retry', async () => {
    await get(h, '/sabre/x');
    const tokenCalls = h.emulators.tokenRequests('sabre').length;
    const apiCalls = h.emulators.apiRequests('sabre');
    const answer = await get(h, '/sabre/status/401');
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ status: 401 });
    expect(h.emulators.apiRequests('sabre')).toBe(apiCalls + 2);
    expect(h.emulators.tokenRequests('sabre').length).toBe(tokenCalls + 1);
  });

  it('does not replay a request whose body was too large to keep', async () => {
    await get(h, '/sabre/x');
    const tokenCalls = h.emulators.tokenRequests('sabre').length;
    const apiCalls = h.emulators.apiRequests('sabre');
    const answer = await send(h.url, '/sabre/status/401', {
      method: 'POST',
      headers: { 'x-api-key': KEY_ALL },
      body: Buffer.alloc(2 * 1024 * 1024, 1),
    });
    expect(answer.status).toBe(401);
    expect(h.emulators.apiRequests('sabre')).toBe(apiCalls + 1);
    expect(h.emulators.tokenRequests('sabre').length).toBe(tokenCalls);
  });

  it('sends one token request for 100 concurrent callers holding the same revoked token', async () => {
    await get(h, '/transatel/warm-up');
    h.emulators.revokeTokens('transatel');
    const tokenCalls = h.emulators.tokenRequests('transatel').length;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => get(h, `/transatel/lines/${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
    expect(h.emulators.tokenRequests('transatel').length).toBe(tokenCalls + 1);
  });

  it('shows /tokens to a key allowed for every provider, without any token value', async () => {
    const answer = await get(h, '/tokens');
    expect(answer.status).toBe(200);
    const { providers } = JSON.parse(answer.body) as {
      providers: Array<{ provider: string; state: string; lastError?: { description?: string } }>;
    };
    expect(providers.map((p) => p.provider).sort()).toEqual(['acme', 'latam', 'payme', 'prio', 'sabre', 'transatel']);
    expect(providers.find((p) => p.provider === 'prio')?.state).toBe('valid');
    expect(providers.find((p) => p.provider === 'latam')?.lastError?.description).toBe('Invalid secret in Authorization header');
    for (const secret of h.secrets()) expect(answer.body).not.toContain(secret);
  });

  it('refuses /tokens without a key (401) and to a key limited to some providers (403)', async () => {
    const none = await send(h.url, '/tokens');
    expect(none.status).toBe(401);
    expect(problemOf(none)).toMatchObject({ code: 'unauthenticated' });
    const limited = await send(h.url, '/tokens', { headers: { 'x-api-key': KEY_LATAM_PRIO } });
    expect(limited.status).toBe(403);
    expect(limited.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(limited)).toMatchObject({ code: 'forbidden' });
  });

  it('reports not ready (503) while a provider cannot get a token, listing every state', async () => {
    const answer = await send(h.url, '/health/ready');
    expect(answer.status).toBe(503);
    const body = JSON.parse(answer.body) as { status: string; providers: Array<{ provider: string; state: string }> };
    expect(body.status).toBe('unavailable');
    expect(body.providers.find((p) => p.provider === 'latam')?.state).toBe('cooling_down');
    expect(body.providers.find((p) => p.provider === 'prio')?.state).toBe('valid');
  });

  it('logs renewals, failures and one access line per request, at debug, without any secret (checked again on close)', () => {
    const text = h.logs.text();
    expect(text).toContain('"msg":"token obtained"');
    expect(text).toContain('"msg":"token request failed"');
    expect(text).toMatch(
      /"provider":"transatel","method":"GET","path":"\/lines\/\d+","status":200,"outcome":"ok","ms":\d+,"msg":"proxied"/,
    );
    for (const secret of h.secrets()) expect(text).not.toContain(secret);
  });
});
