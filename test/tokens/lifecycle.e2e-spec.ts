import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GATEWAY_PROVIDERS, type EmulatedEndpoint, type FailureMode } from '@oauth-gateway/provider-emulators';
import type { Clock, TokenObtainedEvent } from '@oauth-gateway/oauth-providers';
import { FAST_RETRY, getAsAdmin as get, problemOf, startHarness, type Harness, type RawAnswer, until } from '../support/gateway-harness.js';

/**
 * The token lifecycle through the real gateway and the emulators' failure switches: warm start,
 * outages while a token is cached, the circuit, the rejection cool-down, the states `/tokens` and
 * `/health/ready` show, Pay-me's refresh token, and steady traffic across short token lifetimes.
 * Nothing here sleeps and hopes: time jumps on an injected clock, waits are for events or
 * counters, and assertions count calls instead of timing them.
 */

/** Real time plus an offset tests move forward (circuit open periods, cool-downs). */
class ShiftableClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

interface ProviderView {
  provider: string;
  state: string;
  valid: boolean;
  renewing: boolean;
  expiresAt?: string;
  failingSince?: string;
  cooldownUntil?: string;
  circuitOpenUntil?: string;
  hasRefreshToken: boolean;
  lastError?: { kind: string; status?: number; description?: string };
}

/** `/tokens` leaves out what is not set: a closed circuit, no failure, no cool-down. */
function expectUnset(view: ProviderView, ...fields: Array<keyof ProviderView>): void {
  for (const field of fields) expect(view[field]).toBeUndefined();
}

const many = (n: number, call: (i: number) => Promise<RawAnswer>) => Promise.all(Array.from({ length: n }, (_, i) => call(i)));
const statuses = (answers: RawAnswer[]) => answers.map((a) => a.status);

async function tokensView(h: Harness, provider: string): Promise<ProviderView> {
  const answer = await get(h, '/tokens');
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body) as { providers: ProviderView[] }).providers.find((p) => p.provider === provider)!;
}

async function readiness(h: Harness): Promise<{ status: number; providers: ProviderView[] }> {
  const answer = await get(h, '/health/ready'); // with a key allowed *: the detail
  return { status: answer.status, providers: (JSON.parse(answer.body) as { providers: ProviderView[] }).providers };
}

const PROVIDERS = GATEWAY_PROVIDERS;

const sum = (h: Harness, count: (p: EmulatedEndpoint) => number) => PROVIDERS.reduce((n, [, e]) => n + count(e), 0);
const misses = (h: Harness) => h.tokens.cacheCounters().reduce((n, c) => n + c.misses, 0);
const allValid = (h: Harness) => h.tokens.status().every((s) => s.valid);

describe('a gateway warm from start-up, through token endpoint outages', () => {
  let h: Harness;
  const clock = new ShiftableClock();
  beforeAll(async () => {
    h = await startHarness(
      // The gateway default (the harness starts cold); a hanging token endpoint is given up on after 1 s.
      { TOKEN_WARM_ON_START: 'true', TOKEN_REQUEST_TIMEOUT_MS: '1000' },
      { oauth: { retry: FAST_RETRY, clock } },
    );
  });
  afterAll(() => h.close());

  it('has a token for every enabled provider before the first request, so no caller waits on a token endpoint', async () => {
    await until(() => allValid(h), 'the warm-up of every provider');
    for (const [, emulated] of PROVIDERS) expect(h.emulators.tokenRequests(emulated)).toHaveLength(1);
    const answers = await many(30, (i) => get(h, `/${PROVIDERS[i % PROVIDERS.length][0]}/warm/${i}`));
    expect(statuses(answers)).toEqual(Array(30).fill(200));
    expect(misses(h)).toBe(0);
    for (const [, emulated] of PROVIDERS) expect(h.emulators.tokenRequests(emulated)).toHaveLength(1);
  });

  const outages: Array<[string, FailureMode]> = [
    ['503', { kind: 'status', status: 503 }],
    ['500', { kind: 'status', status: 500 }],
    ['429 with Retry-After', { kind: 'rate_limit', retryAfterSeconds: 2 }],
    ['a hanging endpoint (timeout)', { kind: 'hang' }],
    ['a WAF page', { kind: 'waf' }],
  ];

  it.each(outages)('keeps serving the cached token while the token endpoint answers %s', async (_name, mode) => {
    await until(() => allValid(h), 'valid tokens');
    const token = (await h.tokens.getToken('prio')).accessToken;
    h.emulators.failTokenEndpoint('prio', mode);
    try {
      // A renewal ahead of expiry fails...
      await expect(h.tokens.refreshInBackground('prio')).rejects.toMatchObject({ kind: 'unavailable' });
      const tokenCalls = h.emulators.tokenRequests('prio').length;
      const rejections = h.emulators.apiRejections('prio');
      // ...and callers keep being served with the token they had, without touching the token endpoint.
      const answers = await many(20, () => get(h, '/prio/products'));
      expect(statuses(answers)).toEqual(Array(20).fill(200));
      expect(h.emulators.tokenRequests('prio')).toHaveLength(tokenCalls);
      expect(h.emulators.apiRejections('prio')).toBe(rejections);
      expect((await h.tokens.getToken('prio')).accessToken).toBe(token);
      const view = await tokensView(h, 'prio');
      expect(view).toMatchObject({ state: 'valid', valid: true, failingSince: expect.any(String), lastError: { kind: 'unavailable' } });
    } finally {
      h.emulators.clearFailures('prio');
    }
    // The endpoint is back: the next renewal succeeds and the failure is forgotten.
    await h.tokens.refreshInBackground('prio');
    expectUnset(await tokensView(h, 'prio'), 'failingSince', 'circuitOpenUntil');
  });

  it('keeps serving the cached token while the circuit is open, and sends nothing to the endpoint until it half-opens', async () => {
    h.emulators.failTokenEndpoint('sabre', { kind: 'status', status: 503 });
    try {
      await expect(h.tokens.refreshInBackground('sabre')).rejects.toMatchObject({ kind: 'unavailable' }); // 2 calls
      await expect(h.tokens.refreshInBackground('sabre')).rejects.toMatchObject({ retryAfterMs: 5000 }); // 2 more: open
      const tokenCalls = h.emulators.tokenRequests('sabre').length;
      await expect(h.tokens.refreshInBackground('sabre')).rejects.toMatchObject({ kind: 'unavailable', retryAfterMs: expect.any(Number) });
      const answers = await many(20, (i) => get(h, `/sabre/v1/shop/${i}`));
      expect(statuses(answers)).toEqual(Array(20).fill(200));
      expect(h.emulators.tokenRequests('sabre')).toHaveLength(tokenCalls);
      expect(await tokensView(h, 'sabre')).toMatchObject({
        state: 'valid',
        circuitOpenUntil: expect.any(String),
        failingSince: expect.any(String),
      });
      const ready = await readiness(h);
      expect(ready.status).toBe(200); // a valid token: still ready
      expect(ready.providers.find((p) => p.provider === 'sabre')).toMatchObject({ state: 'valid', circuitOpenUntil: expect.any(String) });
    } finally {
      h.emulators.clearFailures('sabre');
    }
    clock.advance(5000); // half-open: the next renewal is the probe
    await h.tokens.refreshInBackground('sabre');
    const view = await tokensView(h, 'sabre');
    expect(view.state).toBe('valid');
    expectUnset(view, 'circuitOpenUntil', 'failingSince');
  });
});

describe('a cold gateway: no valid token while the token endpoint fails or refuses', () => {
  let h: Harness;
  let clock: ShiftableClock;
  // A fresh gateway each: each test starts with no token at all.
  beforeEach(async () => {
    clock = new ShiftableClock();
    // LATAM with a wrong secret: its token endpoint refuses every request.
    h = await startHarness({ LATAM_CLIENT_SECRET: 'lp:definitely-wrong-secret' }, { oauth: { retry: FAST_RETRY, clock } });
  });
  afterEach(() => h.close());

  it('answers 503 token_unavailable, then fast from the open circuit with Retry-After and no token endpoint call, then half-opens', async () => {
    h.emulators.failTokenEndpoint('transatel', { kind: 'status', status: 503 });
    const first = await get(h, '/transatel/lines');
    expect(first.status).toBe(503);
    expect(problemOf(first)).toMatchObject({ code: 'token_unavailable', provider: 'transatel' });
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(2); // FAST_RETRY: two attempts

    const opening = await get(h, '/transatel/lines'); // two more failed calls: the circuit opens for 5 s
    expect(opening.status).toBe(503);
    expect(opening.headers['retry-after']).toBe('5');
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(4);

    // Open: a flood of callers is answered from the circuit, with Retry-After, and nothing is sent.
    const flood = await many(50, (i) => get(h, `/transatel/lines/${i}`));
    expect(statuses(flood)).toEqual(Array(50).fill(503));
    for (const answer of flood) {
      expect(problemOf(answer)).toMatchObject({ code: 'token_unavailable', provider: 'transatel' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(5);
    }
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(4);
    expect(h.emulators.apiRequests('transatel')).toBe(0);

    expect(await tokensView(h, 'transatel')).toMatchObject({
      state: 'circuit_open',
      valid: false,
      circuitOpenUntil: expect.any(String),
      failingSince: expect.any(String),
      lastError: { kind: 'unavailable', status: 503 },
    });
    const ready = await readiness(h);
    expect(ready.status).toBe(503);
    expect(ready.providers.find((p) => p.provider === 'transatel')?.state).toBe('circuit_open');
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(4); // readiness did not probe either

    // Half-open, still failing: one probe (with its retry), then open again for twice as long.
    clock.advance(5000);
    const probe = await get(h, '/transatel/lines');
    expect(probe.status).toBe(503);
    expect(probe.headers['retry-after']).toBe('10');
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(6);
    expect((await get(h, '/transatel/lines')).headers['retry-after']).toBe('10');
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(6);

    // Half-open, endpoint back: concurrent callers share one probe, which closes the circuit.
    h.emulators.clearFailures('transatel');
    clock.advance(10_000);
    const recovered = await many(20, (i) => get(h, `/transatel/lines/${i}`));
    expect(statuses(recovered)).toEqual(Array(20).fill(200));
    expect(h.emulators.tokenRequests('transatel')).toHaveLength(7);
    const view = await tokensView(h, 'transatel');
    expect(view.state).toBe('valid');
    expectUnset(view, 'circuitOpenUntil', 'failingSince', 'lastError');
  });

  it('answers 502 token_rejected and sends one token request for a flood of callers during the cool-down', async () => {
    const first = await get(h, '/latam/loyalty/members');
    expect(first.status).toBe(502);
    expect(first.headers['retry-after']).toBe('30'); // TOKEN_REJECTED_COOLDOWN_SECONDS
    expect(problemOf(first)).toMatchObject({ code: 'token_rejected', provider: 'latam', detail: 'Invalid secret in Authorization header' });
    expect(h.emulators.tokenRequests('latam')).toHaveLength(1); // not retried

    const flood = await many(100, (i) => get(h, `/latam/loyalty/members/${i}`));
    expect(statuses(flood)).toEqual(Array(100).fill(502));
    for (const answer of flood) {
      expect(problemOf(answer)).toMatchObject({ code: 'token_rejected', detail: 'Invalid secret in Authorization header' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(h.emulators.tokenRequests('latam')).toHaveLength(1);
    expect(h.emulators.apiRequests('latam')).toBe(0);

    expect(await tokensView(h, 'latam')).toMatchObject({
      state: 'cooling_down',
      cooldownUntil: expect.any(String),
      failingSince: expect.any(String),
      lastError: { kind: 'rejected', description: 'Invalid secret in Authorization header' },
    });
    const ready = await readiness(h);
    expect(ready.status).toBe(503);
    expect(ready.providers.find((p) => p.provider === 'latam')?.state).toBe('cooling_down');
    expect(h.emulators.tokenRequests('latam')).toHaveLength(1);

    // Once the cool-down has passed the endpoint is asked again, once.
    clock.advance(30_000);
    const after = await many(10, () => get(h, '/latam/loyalty/members'));
    expect(statuses(after)).toEqual(Array(10).fill(502));
    expect(h.emulators.tokenRequests('latam')).toHaveLength(2);
  });

  it('shows a renewal in progress as renewing in /tokens and /health/ready; the waiting caller is served when it completes', async () => {
    h.emulators.failTokenEndpoint('prio', { kind: 'hang', times: 1 });
    const waiting = get(h, '/prio/products');
    await until(() => h.emulators.hangingRequests('prio') === 1, 'the token request to hang');
    expect(await tokensView(h, 'prio')).toMatchObject({ state: 'renewing', renewing: true, valid: false });
    const ready = await readiness(h); // prio's renewal still hangs: not ready, and readiness does not wait for it
    expect(ready.status).toBe(503);
    expect(ready.providers.find((p) => p.provider === 'prio')).toMatchObject({ state: 'renewing', renewing: true });
    h.emulators.releaseHanging('prio');
    expect((await waiting).status).toBe(200);
    expect(h.emulators.tokenRequests('prio')).toHaveLength(1); // the caller, readiness and the rest shared one request
    expect(await tokensView(h, 'prio')).toMatchObject({ state: 'valid', renewing: false });
  });

  it('serves callers at once while a background renewal hangs, and shows it as renewing a valid token', async () => {
    const before = await h.tokens.getToken('prio');
    h.emulators.failTokenEndpoint('prio', { kind: 'hang', times: 1 });
    const renewal = h.tokens.refreshInBackground('prio');
    await until(() => h.emulators.hangingRequests('prio') === 1, 'the background token request to hang');
    // Answered while the renewal is still held open by the emulator: nobody waited on it.
    const answers = await many(10, () => get(h, '/prio/products'));
    expect(statuses(answers)).toEqual(Array(10).fill(200));
    expect(h.emulators.hangingRequests('prio')).toBe(1);
    expect(await tokensView(h, 'prio')).toMatchObject({ state: 'valid', renewing: true });
    h.emulators.releaseHanging('prio');
    expect((await renewal).accessToken).not.toBe(before.accessToken);
    expect(await tokensView(h, 'prio')).toMatchObject({ state: 'valid', renewing: false });
  });

  it('renews Pay-me with its refresh token, keeps it when none comes back, and falls back to the password grant when it is refused', async () => {
    const grantOf = (i: number) => JSON.parse(h.emulators.tokenRequests('payme')[i].body) as Record<string, string>;
    const bearerSent = async () =>
      (JSON.parse((await get(h, '/payme/charges')).body) as { headers: Record<string, string> }).headers.authorization;

    const firstAuth = await bearerSent();
    expect(grantOf(0)).toMatchObject({ grant_type: 'password' });
    expect(grantOf(0).scope.split(' ')).toContain('offline_access');
    const first = await h.tokens.getToken('payme');
    expect(first.refreshToken).toEqual(expect.any(String));
    expect(firstAuth).toBe(`Bearer ${first.accessToken}`);

    // Renewal: the refresh grant; the answer carries no new refresh token, so the old one is kept.
    const second = await h.tokens.refreshInBackground('payme');
    expect(h.emulators.tokenRequests('payme')).toHaveLength(2);
    expect(grantOf(1)).toMatchObject({ grant_type: 'refresh_token', refresh_token: first.refreshToken });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toBe(first.refreshToken);
    expect(await bearerSent()).toBe(`Bearer ${second.accessToken}`);

    // The refresh token is refused: the primary grant is used in the same renewal, and no cool-down starts.
    h.emulators.revokeRefreshTokens('payme');
    const third = await h.tokens.refreshInBackground('payme');
    expect(h.emulators.tokenRequests('payme')).toHaveLength(4);
    expect(grantOf(2)).toMatchObject({ grant_type: 'refresh_token', refresh_token: first.refreshToken });
    expect(grantOf(3)).toMatchObject({ grant_type: 'password' });
    expect(third.refreshToken).toEqual(expect.any(String));
    expect(third.refreshToken).not.toBe(first.refreshToken);
    expect(await bearerSent()).toBe(`Bearer ${third.accessToken}`);
    const view = await tokensView(h, 'payme');
    expect(view).toMatchObject({ state: 'valid', hasRefreshToken: true });
    expectUnset(view, 'cooldownUntil', 'failingSince', 'lastError');
    expect(h.emulators.apiRejections('payme')).toBe(0);
  });
});

describe('steady traffic across short token lifetimes (2-second tokens)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ TOKEN_WARM_ON_START: 'true' });
    await until(() => allValid(h), 'the warm-up of every provider');
    // From now on every token lives 2 s (usable for 1 s with the default 60 s skew, renewed after 0.5 s).
    for (const [, emulated] of PROVIDERS) h.emulators.setTokenLifetime(emulated, 2);
    await Promise.all(PROVIDERS.map(([provider]) => h.tokens.refreshInBackground(provider)));
  });
  afterAll(() => h.close());

  it('never sends an expired token upstream and never makes a request wait on a renewal', async () => {
    const renewals = new Map<string, number>();
    let foreground = 0;
    const onObtained = (e: TokenObtainedEvent) => {
      if (e.background) renewals.set(e.provider, (renewals.get(e.provider) ?? 0) + 1);
      else foreground++;
    };
    h.tokens.events.on('obtained', onObtained);
    const missesBefore = misses(h);
    const rejectedBefore = sum(h, (p) => h.emulators.apiRejections(p));
    const answers: number[] = [];
    // Traffic until every provider's token has been renewed 8 times in the background (four full
    // token lifetimes), with four callers in a loop.
    const enough = () => PROVIDERS.every(([provider]) => (renewals.get(provider) ?? 0) >= 8);
    const deadline = Date.now() + 30_000;
    try {
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          for (let i = worker; !enough() && Date.now() < deadline; i += 4) {
            answers.push((await get(h, `/${PROVIDERS[i % PROVIDERS.length][0]}/steady/${i}`)).status);
          }
        }),
      );
    } finally {
      h.tokens.events.off('obtained', onObtained);
    }
    expect(enough()).toBe(true);
    expect(answers.length).toBeGreaterThan(100);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
    expect(sum(h, (p) => h.emulators.apiRejections(p)) - rejectedBefore).toBe(0); // no expired token reached an API
    expect(misses(h) - missesBefore).toBe(0); // every request found a valid token in the cache
    expect(foreground).toBe(0);
  });
});
