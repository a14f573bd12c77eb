import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EmulatedEndpoint } from '@oauth-gateway/provider-emulators';
import { KEY_ALL, KEY_LATAM_PRIO, problemOf, send, sendRaw, startHarness, type Harness } from '../support/gateway-harness.js';

const ENDPOINTS: EmulatedEndpoint[] = ['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'];
const upstreamCalls = (h: Harness) => ENDPOINTS.reduce((n, p) => n + h.emulators.apiRequests(p), 0);
const echo = (body: string) => JSON.parse(body) as { path: string; query: string; headers: Record<string, string>; bodyBytes: number };
const raw = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

describe('request-target and header rules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ MAX_HEADER_COUNT: '100' });
  });
  afterAll(() => h.close());

  it.each([
    ['a fragment in the path', '/prio/products#x'],
    ['regression: "..#" (not seen as a dot segment, resolved one level up by a URL parser)', '/prio/a/..#/admin'],
    ['regression: "%2e%2e#"', '/prio/a/%2e%2e#'],
    ['a fragment in the query', '/prio/products?x=1#frag'],
    ['a raw double quote in the path', '/prio/a"b'],
    ['a raw backslash in the path', '/prio/a\\b'],
    ['a raw non-ASCII byte in the path', '/prio/caf\u00e9'],
  ])('answers 400 invalid_path to %s and sends nothing upstream', async (_name, target) => {
    const before = upstreamCalls(h);
    const answer = await sendRaw(h.url, raw([`GET ${target} HTTP/1.1`, 'Host: gw', `x-api-key: ${KEY_ALL}`, 'Connection: close']));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_path' });
    expect(upstreamCalls(h)).toBe(before);
  });

  it('forwards raw characters of the query other than #, spaces and controls as received', async () => {
    const answer = await sendRaw(
      h.url,
      raw([`GET /prio/echo?q=[1]|{2}^"<>\`' HTTP/1.1`, 'Host: gw', `x-api-key: ${KEY_ALL}`, 'Connection: close']),
    );
    expect(answer.status).toBe(200);
    expect(echo(answer.body).query).toBe('q=[1]|{2}^"<>`\'');
  });

  it('forwards a request with exactly MAX_HEADER_COUNT header fields', async () => {
    const lines = ['GET /prio/echo HTTP/1.1', 'Host: gw', `x-api-key: ${KEY_ALL}`, 'Connection: close'];
    for (let i = lines.length - 1; i < 100; i++) lines.push(`x-filler-${i}: ${i}`);
    const answer = await sendRaw(h.url, raw(lines));
    expect(answer.status).toBe(200);
    expect(echo(answer.body).headers['x-filler-99']).toBe('99');
  });

  it("regression: past Node's header-count cap headers are no longer dropped silently: 431 headers_too_large, framing headers included", async () => {
    const before = upstreamCalls(h);
    const many = (last: string[]) => {
      const lines = ['POST /prio/upload HTTP/1.1', 'Host: gw', `x-api-key: ${KEY_ALL}`, 'Connection: close'];
      for (let i = 0; i < 150; i++) lines.push(`x-filler-${i}: ${i}`);
      return [...lines, ...last];
    };
    // The framing header past the 100th: a chunked body must not be forwarded as an empty one.
    const chunked = await sendRaw(h.url, raw(many(['Transfer-Encoding: chunked']), '5\r\nhello\r\n0\r\n\r\n'));
    expect(chunked.status).toBe(431);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'headers_too_large', detail: 'more than 100 header fields' });
    // A content-length over the limit past the 100th is not read as "no body".
    const declared = await sendRaw(h.url, raw(many(['Content-Length: 5']), 'hello'));
    expect(declared.status).toBe(431);
    // Own routes too.
    const health = await sendRaw(h.url, raw(many([]).map((line) => line.replace('POST /prio/upload', 'GET /health'))));
    expect(health.status).toBe(431);
    expect(upstreamCalls(h)).toBe(before);
  });

  it.each([
    ['regression: "gzip, chunked" (the raw gzip bytes were forwarded as plain)', 'gzip, chunked'],
    ['"deflate, chunked"', 'deflate, chunked'],
    ['"gzip" alone (Node cannot frame it)', 'gzip'],
    ['"chunked, gzip"', 'chunked, gzip'],
  ])('answers 501 not_implemented to Transfer-Encoding: %s and sends nothing upstream', async (_name, coding) => {
    const before = upstreamCalls(h);
    const answer = await sendRaw(
      h.url,
      raw(
        ['POST /prio/upload HTTP/1.1', 'Host: gw', `x-api-key: ${KEY_ALL}`, `Transfer-Encoding: ${coding}`, 'Connection: close'],
        '5\r\nhello\r\n0\r\n\r\n',
      ),
    );
    expect(answer.status).toBe(501);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'not_implemented' });
    expect(upstreamCalls(h)).toBe(before);
  });

  it('still forwards a chunked body, whatever the case of "chunked"', async () => {
    const answer = await sendRaw(
      h.url,
      raw(
        ['POST /prio/upload HTTP/1.1', 'Host: gw', `x-api-key: ${KEY_ALL}`, 'Transfer-Encoding: Chunked', 'Connection: close'],
        '5\r\nhello\r\n0\r\n\r\n',
      ),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ bytes: 5 });
  });

  it('regression: Forwarded, X-Real-IP, X-Forwarded-Port, X-Original-URL and X-Rewrite-URL from a caller no longer reach the upstream', async () => {
    const answer = await send(h.url, '/transatel/echo', {
      headers: {
        'x-api-key': KEY_ALL,
        forwarded: 'for=203.0.113.9;proto=https;host=evil.example',
        'x-real-ip': '203.0.113.9',
        'x-forwarded-port': '8443',
        'x-original-url': '/admin',
        'x-rewrite-url': '/admin',
        'x-forwarded-for': '203.0.113.9',
      },
    });
    const seen = echo(answer.body).headers;
    for (const gone of ['forwarded', 'x-real-ip', 'x-forwarded-port', 'x-original-url', 'x-rewrite-url'])
      expect(seen[gone]).toBeUndefined();
    // regression: any caller's x-forwarded-for was appended to; from a peer that is no trusted proxy it is replaced.
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
  });
});

describe('TRUSTED_PROXIES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ TRUSTED_PROXIES: '127.0.0.0/8,::1' });
  });
  afterAll(() => h.close());

  it("keeps a trusted proxy's x-forwarded-for and appends the proxy's address", async () => {
    const answer = await send(h.url, '/prio/echo', { headers: { 'x-api-key': KEY_ALL, 'x-forwarded-for': '198.51.100.4, 203.0.113.9' } });
    expect(echo(answer.body).headers['x-forwarded-for']).toBe('198.51.100.4, 203.0.113.9, 127.0.0.1');
  });
});

describe('/health/ready', () => {
  let h: Harness;
  beforeAll(async () => {
    // LATAM's secret is wrong: its token endpoint refuses it, with an error text.
    h = await startHarness({ LATAM_CLIENT_SECRET: 'lp:definitely-wrong-secret' });
  });
  afterAll(() => h.close());

  const tokenCalls = () => ENDPOINTS.reduce((n, p) => n + h.emulators.tokenRequests(p).length, 0);

  it('regression: an unauthenticated /health/ready no longer asks for any token, however often it is probed', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(h.url, '/health/ready')));
    // Tokens are fetched on first use here, and none was used yet: ready, and no token endpoint called.
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(tokenCalls()).toBe(0);
  });

  it("regression: without a key it shows only the status and each provider's state (no checks, no error text)", async () => {
    expect((await send(h.url, '/latam/loyalty', { headers: { 'x-api-key': KEY_ALL } })).status).toBe(502);
    const calls = tokenCalls();
    for (const headers of [{}, { 'x-api-key': 'not-a-key' }, { 'x-api-key': KEY_LATAM_PRIO }] as Array<Record<string, string>>) {
      const answer = await send(h.url, '/health/ready', { headers });
      expect(answer.status).toBe(503);
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['providers', 'status']);
      expect(body.status).toBe('unavailable');
      expect(body.providers).toContainEqual({ provider: 'latam', state: 'cooling_down' });
      for (const provider of body.providers as Array<Record<string, unknown>>)
        expect(Object.keys(provider).sort()).toEqual(['provider', 'state']);
      expect(answer.body).not.toContain('Invalid secret');
    }
    expect(tokenCalls()).toBe(calls);
  });

  it('shows the detail, Terminus checks and error texts included, to a key allowed *', async () => {
    const answer = await send(h.url, '/health/ready', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(503);
    const body = problemOf(answer) as {
      checks: Record<string, { status: string }>;
      providers: Array<{ provider: string; lastError?: { description: string } }>;
    };
    expect(body.checks.latam).toMatchObject({ status: 'down', state: 'cooling_down' });
    expect(body.providers.find((p) => p.provider === 'latam')?.lastError?.description).toBe('Invalid secret in Authorization header');
  });
});
