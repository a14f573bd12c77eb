import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getAsAdmin as get, KEY_ALL, send, startHarness, type Harness } from '../support/gateway-harness.js';

/** Every sample of a scrape: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const split = line.lastIndexOf(' ');
    map.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return map;
}

const series = (name: string, labels: Record<string, string> = {}) =>
  Object.keys(labels).length === 0
    ? name
    : `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`;

const scrape = async (h: Harness) => samples(await (await fetch(`${h.url}/metrics`)).text());

describe('metrics: every series moves when it should', () => {
  let h: Harness;
  beforeAll(async () => {
    // LATAM with a wrong secret: its token endpoint refuses it (a rejection, then a cool-down).
    h = await startHarness({ LATAM_CLIENT_SECRET: 'lp:definitely-wrong-secret' });
    h.tokens.events.on('failed', () => failures++);
  });
  afterAll(() => h.close());
  let failures = 0;

  it('counts requests, token calls, renewals, cache hits and misses, replays, and reads states at scrape time', async () => {
    const before = await scrape(h);
    const at = (m: Map<string, number>, name: string, labels?: Record<string, string>) => m.get(series(name, labels)) ?? 0;
    const moved = (after: Map<string, number>, name: string, labels?: Record<string, string>) =>
      at(after, name, labels) - at(before, name, labels);
    // Nothing asked for a token yet (cold start): no expiry sample, every provider empty.
    expect(before.has(series('gateway_token_expiry_seconds', { provider: 'prio' }))).toBe(false);
    expect(at(before, 'gateway_token_state', { provider: 'prio', state: 'empty' })).toBe(1);

    // prio: one renewal on the request path, then cached.
    for (let i = 0; i < 3; i++) expect((await get(h, '/prio/products')).status).toBe(200);
    // transatel: the API refuses the token once (revoked): renewed and replayed.
    expect((await get(h, '/transatel/subscriptions')).status).toBe(200);
    h.emulators.revokeTokens('transatel');
    expect((await get(h, '/transatel/subscriptions')).status).toBe(200);
    // latam: credentials refused.
    expect((await get(h, '/latam/loyalty/members')).status).toBe(502);
    // payme: the token endpoint is down until the circuit opens.
    h.emulators.failTokenEndpoint('payme', { kind: 'status', status: 503 });
    for (let i = 0; i < 10 && h.tokens.status().find((s) => s.provider === 'payme')?.circuitOpenUntil === undefined; i++) {
      expect((await get(h, '/payme/charges')).status).toBe(503);
    }
    h.emulators.clearFailures('payme');
    // A background renewal, as the refresher starts it.
    await h.tokens.refreshInBackground('prio');
    // A request the gateway refuses itself.
    expect((await send(h.url, '/prio/products')).status).toBe(401);

    const after = await scrape(h);
    expect(moved(after, 'gateway_proxied_requests_total', { provider: 'prio', method: 'GET', status_class: '2xx' })).toBe(3);
    expect(moved(after, 'gateway_proxied_requests_total', { provider: 'latam', method: 'GET', status_class: '5xx' })).toBe(1);
    expect(moved(after, 'gateway_proxied_requests_total', { provider: '-', method: 'GET', status_class: '4xx' })).toBe(1);
    for (const name of [
      'gateway_proxied_request_duration_seconds_count',
      'gateway_proxied_upstream_duration_seconds_count',
      'gateway_proxied_overhead_duration_seconds_count',
    ]) {
      expect(moved(after, name, { provider: 'prio', method: 'GET', status_class: '2xx' })).toBe(3);
    }
    // Refused before any upstream call: overhead only.
    expect(moved(after, 'gateway_proxied_overhead_duration_seconds_count', { provider: 'latam', method: 'GET', status_class: '5xx' })).toBe(
      1,
    );
    expect(moved(after, 'gateway_proxied_upstream_duration_seconds_count', { provider: 'latam', method: 'GET', status_class: '5xx' })).toBe(
      0,
    );
    const upstreamSum = moved(after, 'gateway_proxied_upstream_duration_seconds_sum', {
      provider: 'prio',
      method: 'GET',
      status_class: '2xx',
    });
    const totalSum = moved(after, 'gateway_proxied_request_duration_seconds_sum', { provider: 'prio', method: 'GET', status_class: '2xx' });
    expect(upstreamSum).toBeGreaterThan(0);
    expect(upstreamSum).toBeLessThanOrEqual(totalSum);

    expect(moved(after, 'gateway_upstream_401_replays_total', { provider: 'transatel' })).toBe(1);
    expect(moved(after, 'gateway_token_requests_total', { provider: 'prio', outcome: 'success' })).toBe(2);
    expect(moved(after, 'gateway_token_requests_total', { provider: 'latam', outcome: 'rejected' })).toBe(1);
    expect(moved(after, 'gateway_token_requests_total', { provider: 'payme', outcome: 'unavailable' })).toBeGreaterThanOrEqual(3);
    expect(moved(after, 'gateway_token_request_duration_seconds_count', { provider: 'prio', outcome: 'success' })).toBe(2);
    expect(moved(after, 'gateway_token_renewals_total', { provider: 'prio', trigger: 'request', result: 'success' })).toBe(1);
    expect(moved(after, 'gateway_token_renewals_total', { provider: 'prio', trigger: 'background', result: 'success' })).toBe(1);
    expect(moved(after, 'gateway_token_renewals_total', { provider: 'transatel', trigger: 'request', result: 'success' })).toBe(2);
    expect(moved(after, 'gateway_token_renewals_total', { provider: 'latam', trigger: 'request', result: 'failure' })).toBe(1);
    expect(moved(after, 'gateway_token_cache_misses_total', { provider: 'prio' })).toBe(1);
    expect(moved(after, 'gateway_token_cache_hits_total', { provider: 'prio' })).toBe(2);

    const expiry = at(after, 'gateway_token_expiry_seconds', { provider: 'prio' });
    expect(expiry).toBeGreaterThan(3500);
    expect(expiry).toBeLessThanOrEqual(3600);
    expect(at(after, 'gateway_token_state', { provider: 'prio', state: 'valid' })).toBe(1);
    expect(at(after, 'gateway_token_state', { provider: 'prio', state: 'empty' })).toBe(0);
    expect(at(after, 'gateway_token_state', { provider: 'latam', state: 'cooling_down' })).toBe(1);
    expect(at(after, 'gateway_token_circuit_open', { provider: 'payme' })).toBe(1);
    expect(at(after, 'gateway_token_circuit_open', { provider: 'prio' })).toBe(0);
    expect(at(after, 'gateway_token_store_degraded', { shared: 'false' })).toBe(0);
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('serves /health/ready through Terminus with a check per provider and the token store, to a key allowed *', async () => {
    const answer = await get(h, '/health/ready');
    expect(answer.status).toBe(503);
    const body = JSON.parse(answer.body) as { status: string; checks: Record<string, { status: string; state?: string }> };
    expect(body.status).toBe('unavailable');
    expect(body.checks.prio).toMatchObject({ status: 'up', state: 'valid' });
    expect(body.checks.latam).toMatchObject({ status: 'down', state: 'cooling_down' });
    expect(body.checks.tokenStore).toMatchObject({ status: 'up', shared: false });
    expect(Object.keys(body.checks).sort()).toEqual(['acme', 'latam', 'payme', 'prio', 'sabre', 'tokenStore', 'transatel']);
  });

  it('logs token events: obtained, renewed, failed, cooling down, circuit open, with provider and expiry', () => {
    const lines = h.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const first = (msg: string, provider: string) => lines.find((l) => l.msg === msg && l.provider === provider);
    expect(first('token obtained', 'prio')).toMatchObject({
      trigger: 'request',
      source: 'provider',
      expiresAt: expect.stringMatching(/^\d{4}-/),
    });
    expect(first('token renewed', 'prio')).toMatchObject({ trigger: 'background', expiresAt: expect.stringMatching(/^\d{4}-/) });
    expect(first('token cooling down', 'latam')).toMatchObject({
      kind: 'rejected',
      description: 'Invalid secret in Authorization header',
      until: expect.stringMatching(/^\d{4}-/),
    });
    expect(first('token request failed', 'payme')).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(first('token circuit open', 'payme')).toMatchObject({ kind: 'unavailable', until: expect.stringMatching(/^\d{4}-/) });
  });

  it('writes one warn line per failed renewal, and no other (the library and the refresher leave failures to the event)', () => {
    const warnings = h.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40);
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(warnings.map((l) => l.msg)).toEqual(
      Array.from({ length: failures }, () => expect.stringMatching(/^token (request failed|cooling down|circuit open)$/)),
    );
  });
});

describe('logs: secrets fed in every place never appear', () => {
  const CALLER = {
    authorization: 'Bearer caller-bearer-9d8c7b6a5f',
    cookie: 'session=caller-cookie-4e3d2c1b0a',
    queryToken: 'query-token-1a2b3c4d5e',
    querySecret: 'query-secret-6f7e8d9c0b',
    queryPassword: 'query-password-5a4b3c2d1e',
    bodyPassword: 'body-password-0f9e8d7c6b',
    wrongKey: 'wrong-api-key-3c4d5e6f7a',
    pathSecret: 'refresh-0a1b2c3d4e',
  };
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('keeps keys, caller credentials, cookies, query values, bodies and token values out of every line', async () => {
    const query = `?access_token=${CALLER.queryToken}&client_secret=${CALLER.querySecret}&password=${CALLER.queryPassword}&refresh_token=${CALLER.pathSecret}`;
    const headers = { authorization: CALLER.authorization, cookie: CALLER.cookie, 'x-request-id': 'redaction-test' };
    // Proxied, every provider (each token obtained is a secret too), with secrets in headers, query and body.
    for (const provider of ['latam', 'transatel', 'payme', 'prio', 'sabre', 'acme']) {
      expect((await get(h, `/${provider}/echo${query}`, headers)).status).toBe(200);
      const posted = await send(h.url, `/${provider}/upload${query}`, {
        method: 'POST',
        headers: { 'x-api-key': KEY_ALL, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ password: CALLER.bodyPassword, client_secret: CALLER.querySecret }),
      });
      expect(posted.status).toBe(200);
    }
    // A 401 replay (token dropped, renewed), a refused key, the Nest routes with the same secrets.
    h.emulators.revokeTokens('prio');
    expect((await get(h, `/prio/products${query}`, headers)).status).toBe(200);
    expect((await send(h.url, `/prio/products${query}`, { headers: { 'x-api-key': CALLER.wrongKey, ...headers } })).status).toBe(401);
    expect((await get(h, `/tokens${query}`, headers)).status).toBe(200);
    expect((await send(h.url, `/tokens${query}`, { headers: { 'x-api-key': CALLER.wrongKey, ...headers } })).status).toBe(401);
    expect((await send(h.url, `/health/ready${query}`, { headers })).status).toBe(200);
    expect((await send(h.url, `/metrics${query}`, { headers })).status).toBe(200);
    // A token endpoint failure and a background renewal are logged too.
    h.emulators.failTokenEndpoint('sabre', { kind: 'status', status: 503 });
    await h.tokens.refreshInBackground('sabre').catch(() => undefined);
    h.emulators.clearFailures('sabre');
    await h.tokens.refreshInBackground('sabre');

    const text = h.logs.text();
    // The run did log: access lines with the path (no query), token events, at debug.
    expect(text).toMatch(
      /"reqId":"redaction-test","caller":"env-1","client":"127.0.0.1","upstreamMs":\d+,"bytesIn":\d+,"bytesOut":\d+,"provider":"prio","method":"POST","path":"\/upload","status":200/,
    );
    expect(text).toContain('"msg":"token renewed"');
    expect(text).toContain('"msg":"token request failed"');
    for (const secret of [...Object.values(CALLER), ...h.secrets()]) expect(text).not.toContain(secret);
    // The metrics never carry one either.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    for (const secret of [...Object.values(CALLER), ...h.secrets()]) expect(metrics).not.toContain(secret);
  });
});
