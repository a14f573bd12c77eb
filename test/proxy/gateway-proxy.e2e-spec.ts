import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EmulatedEndpoint } from '@oauth-gateway/provider-emulators';
import { KEY_ALL, KEY_LATAM_PRIO, problemOf, send, startHarness, until, type Harness } from '../support/gateway-harness.js';

const MiB = 1024 * 1024;
const echo = (answer: { body: string }) =>
  JSON.parse(answer.body) as {
    method: string;
    path: string;
    query: string;
    headers: Record<string, string>;
    bodyBytes: number;
    bodySha256: string;
  };

/** `n` deterministic bytes in 64 KiB chunks, produced as the consumer reads (never held whole). */
function generated(n: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= n) return void this.push(null);
      const size = Math.min(64 * 1024, n - sent);
      const chunk = Buffer.alloc(size);
      for (let i = 0; i < size; i++) chunk[i] = (sent + i) % 241;
      sent += size;
      this.push(chunk);
    },
  });
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A streamed upload; `length` set: with content-length, else chunked. */
function upload(base: string, target: string, size: number, opts: { length?: boolean; key?: string } = {}) {
  const { hostname, port } = new URL(base);
  const headers: Record<string, string> = { 'x-api-key': opts.key ?? KEY_ALL, 'content-type': 'application/octet-stream' };
  if (opts.length) headers['content-length'] = String(size);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    // The gateway may refuse and close while we still send: the answer is what counts.
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    generated(size).pipe(req);
  });
}

const apiTotal = (h: Harness) =>
  (['latam', 'transatel', 'payme', 'prio', 'sabre', 'oauth2'] as EmulatedEndpoint[]).reduce((n, p) => n + h.emulators.apiRequests(p), 0);

describe('proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ MAX_BODY_BYTES: String(64 * MiB) });
  });
  afterAll(() => h.close());

  const providerHeaders: Array<[string, EmulatedEndpoint, (headers: Record<string, string>) => void]> = [
    [
      'latam',
      'latam',
      (hd) => {
        // LATAM APIs take the token in `access_token` plus `client_id`, not in Authorization.
        expect(hd.client_id).toBe(h.emulators.credentials.latam.clientId);
        expect(hd.access_token).toMatch(/.+/);
        expect(hd.authorization).toBeUndefined();
        expect(hd['x-latam-test']).toBeUndefined();
      },
    ],
    ['transatel', 'transatel', (hd) => expect(hd.authorization).toMatch(/^Bearer \S+$/)],
    [
      'payme',
      'payme',
      (hd) => {
        expect(hd.authorization).toMatch(/^Bearer \S+$/);
        expect(hd['alg-api-version']).toBe('1618440906');
      },
    ],
    ['prio', 'prio', (hd) => expect(hd.authorization).toMatch(/^Bearer \S+$/)],
    ['sabre', 'sabre', (hd) => expect(hd.authorization).toMatch(/^Bearer T1RLAQ\S+$/)],
    ['acme', 'oauth2', (hd) => expect(hd.authorization).toMatch(/^Bearer \S+$/)],
  ];

  it.each(providerHeaders)('forwards to %s with method, path, query and the headers its API wants', async (provider, emulated, check) => {
    const answer = await send(h.url, `/${provider}/v1/items/42?q=a%20b&x=1`, { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(200);
    const seen = echo(answer);
    expect(seen.method).toBe('GET');
    expect(seen.path).toBe(`/${emulated}/api/v1/items/42`);
    expect(seen.query).toBe('q=a%20b&x=1');
    check(seen.headers);
    expect(seen.headers['x-api-key']).toBeUndefined();
  });

  it('forwards a body and the upstream status and headers', async () => {
    const body = JSON.stringify({ order: 1, items: ['a', 'b'] });
    const answer = await send(h.url, '/prio/orders', {
      method: 'POST',
      headers: { 'x-api-key': KEY_ALL, 'content-type': 'application/json' },
      body,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const seen = echo(answer);
    expect(seen.method).toBe('POST');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    const created = await send(h.url, '/prio/status/201', { method: 'PUT', headers: { 'x-api-key': KEY_ALL }, body: 'x' });
    expect(created.status).toBe(201);
  });

  it('answers 401 unauthenticated without a key or with an unknown one, sending nothing upstream', async () => {
    const before = apiTotal(h);
    for (const headers of [{}, { 'x-api-key': 'not-a-key' }, { 'x-api-key': `${KEY_ALL}x` }] as Array<Record<string, string>>) {
      const answer = await send(h.url, '/prio/products', { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(problemOf(answer)).toMatchObject({
        type: 'about:blank',
        status: 401,
        code: 'unauthenticated',
        requestId: answer.headers['x-request-id'],
      });
    }
    expect(apiTotal(h)).toBe(before);
  });

  it('answers 403 forbidden to a key not allowed for the provider', async () => {
    const before = apiTotal(h);
    const answer = await send(h.url, '/sabre/x', { headers: { 'x-api-key': KEY_LATAM_PRIO } });
    expect(answer.status).toBe(403);
    expect(problemOf(answer)).toMatchObject({ code: 'forbidden', provider: 'sabre' });
    expect((await send(h.url, '/prio/x', { headers: { 'x-api-key': KEY_LATAM_PRIO } })).status).toBe(200);
    expect(apiTotal(h)).toBe(before + 1);
  });

  it('answers 404 unknown_provider for a name that is no provider', async () => {
    const answer = await send(h.url, '/nope/x', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(404);
    expect(problemOf(answer)).toMatchObject({ code: 'unknown_provider' });
  });

  it('answers 404 not_found as problem+json for a path without a provider', async () => {
    const answer = await send(h.url, '/', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(answer)).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('serves only the exact paths of the app itself; other paths on those names reach the proxy, other methods get 405', async () => {
    for (const [method, target] of [
      ['GET', '/health'],
      ['GET', '/health?probe=1'],
      ['HEAD', '/health'],
    ]) {
      const answer = await send(h.url, target, { method });
      expect({ method, target, status: answer.status }).toEqual({ method, target, status: 200 });
    }
    for (const [method, target, status, code] of [
      ['GET', '/health/x', 404, 'unknown_provider'],
      ['GET', '/metrics/', 404, 'unknown_provider'],
      ['POST', '/health/x', 404, 'unknown_provider'],
      ['POST', '/health', 405, 'method_not_allowed'],
      ['DELETE', '/tokens', 405, 'method_not_allowed'],
    ] as const) {
      const answer = await send(h.url, target, { method, headers: { 'x-api-key': KEY_ALL } });
      expect({ method, target, status: answer.status, code: problemOf(answer).code }).toEqual({ method, target, status, code });
    }
  });

  it('strips hop-by-hop, connection-named and credential headers and adds x-forwarded-* and x-request-id', async () => {
    const answer = await send(h.url, '/transatel/echo', {
      headers: {
        'x-api-key': KEY_ALL,
        authorization: 'Basic Y2FsbGVyOnNlY3JldA==',
        cookie: 'session=caller-cookie',
        connection: 'keep-alive, x-hop-secret',
        'x-hop-secret': 'must-not-pass',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic cHJveHk6cHc=',
        'x-forwarded-for': '203.0.113.7',
        'x-request-id': 'caller-req-123',
        'x-custom': 'kept',
      },
    });
    const seen = echo(answer).headers;
    for (const gone of ['x-api-key', 'cookie', 'x-hop-secret', 'keep-alive', 'te', 'proxy-authorization']) {
      expect(seen[gone]).toBeUndefined();
    }
    expect(seen.authorization).toMatch(/^Bearer /);
    expect(seen.authorization).not.toContain('Y2FsbGVy');
    expect(seen['x-custom']).toBe('kept');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1'); // the caller is no trusted proxy: its chain is replaced
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(new URL(h.url).host);
    expect(seen['x-request-id']).toBe('caller-req-123');
    expect(answer.headers['x-request-id']).toBe('caller-req-123');
  });

  it('replaces an unusable x-request-id with a UUID, on both sides', async () => {
    const answer = await send(h.url, '/prio/echo', { headers: { 'x-api-key': KEY_ALL, 'x-request-id': 'a b<script>' } });
    const id = answer.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo(answer).headers['x-request-id']).toBe(id);
  });

  it('streams a 50 MiB chunked upload through, byte for byte', async () => {
    const size = 50 * MiB;
    const expected = await sha256Of(generated(size));
    const answer = await upload(h.url, '/payme/upload', size);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ bytes: size, sha256: expected });
  });

  it('streams an upload with content-length through', async () => {
    const size = 3 * MiB + 17;
    const answer = await upload(h.url, '/payme/upload', size, { length: true });
    expect(JSON.parse(answer.body)).toEqual({ bytes: size, sha256: await sha256Of(generated(size)) });
  });

  it('streams a 50 MiB download back, byte for byte', async () => {
    const size = 50 * MiB;
    const res = await fetch(`${h.url}/latam/bytes/${size}`, { headers: { 'x-api-key': KEY_ALL } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(size));
    let offset = 0;
    let mismatch = -1;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (let i = 0; i < chunk.length && mismatch < 0; i++) if (chunk[i] !== (offset + i) % 251) mismatch = offset + i;
      offset += chunk.length;
    }
    expect(mismatch).toBe(-1);
    expect(offset).toBe(size);
  });

  it('answers /health and /health/ready when every provider can get a token', async () => {
    expect(await (await fetch(`${h.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${h.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; providers: Array<{ provider: string; state: string }> };
    expect(body.status).toBe('ok');
    expect(body.providers.map((p) => p.provider).sort()).toEqual(['acme', 'latam', 'payme', 'prio', 'sabre', 'transatel']);
    expect(body.providers.every((p) => p.state === 'valid')).toBe(true);
  });

  it("relays a download at the caller's pace, and stops the provider's answer when the caller goes away", async () => {
    const size = 1024 * MiB;
    const { hostname, port } = new URL(h.url);
    const req = httpRequest({ host: hostname, port, path: `/prio/bytes/${size}`, headers: { 'x-api-key': KEY_ALL } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject).end());
    expect(res.statusCode).toBe(200);
    res.pause(); // the caller reads nothing more
    const download = h.emulators.downloads('prio').at(-1)!;
    expect(download.total).toBe(size);
    // Back-pressure: once the buffers between the provider and the caller are full, the provider is held.
    let seen = -1;
    let still = 0;
    await until(
      () => {
        still = download.written === seen ? still + 1 : 0;
        seen = download.written;
        return still >= 40;
      },
      'the download to stop advancing',
      30_000,
    );
    expect(download.state).toBe('streaming');
    expect(download.written).toBeLessThan(64 * MiB);
    res.destroy();
    await until(() => download.state !== 'streaming', "the provider's answer to close");
    expect(download.state).toBe('closed');
  });

  it('counts proxied requests in /metrics', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/gateway_proxied_requests_total\{provider="prio",method="GET",status_class="2xx"\} [1-9]/);
    expect(text).toMatch(/gateway_proxied_requests_total\{provider="-",method="GET",status_class="4xx"\} [1-9]/);
    expect(text).toContain('gateway_proxied_request_duration_seconds_bucket');
    expect(text).toMatch(/gateway_token_requests_total\{provider="prio",outcome="success"\} 1/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});

describe('proxy limits', () => {
  let h: Harness;
  let closedPort: number;
  beforeAll(async () => {
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    h = await startHarness({
      MAX_BODY_BYTES: String(MiB),
      UPSTREAM_TIMEOUT_MS: '300',
      SABRE_API_URL: `http://127.0.0.1:${closedPort}/api`,
    });
  });
  afterAll(() => h.close());

  it('answers 413 payload_too_large on a declared content-length over MAX_BODY_BYTES, sending nothing upstream', async () => {
    const before = h.emulators.apiRequests('payme');
    const answer = await upload(h.url, '/payme/upload', MiB + 1, { length: true });
    expect(answer.status).toBe(413);
    expect(problemOf(answer)).toMatchObject({ code: 'payload_too_large', provider: 'payme' });
    expect(h.emulators.apiRequests('payme')).toBe(before);
  });

  it('answers 413 payload_too_large when a chunked body goes over MAX_BODY_BYTES while streaming', async () => {
    const answer = await upload(h.url, '/payme/upload', 3 * MiB);
    expect(answer.status).toBe(413);
    expect(problemOf(answer)).toMatchObject({ code: 'payload_too_large' });
  });

  it('forwards a chunked body right at the limit', async () => {
    const answer = await upload(h.url, '/payme/upload', MiB);
    expect(JSON.parse(answer.body)).toMatchObject({ bytes: MiB });
  });

  it('answers 504 upstream_timeout when the API does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    const started = Date.now();
    const answer = await send(h.url, '/prio/slow/5000', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(504);
    expect(problemOf(answer)).toMatchObject({ code: 'upstream_timeout', provider: 'prio' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers 502 upstream_unreachable when the API cannot be reached', async () => {
    const answer = await send(h.url, '/sabre/anything', { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(502);
    expect(problemOf(answer)).toMatchObject({ code: 'upstream_unreachable', provider: 'sabre' });
  });
});
