import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { FAST_RETRY, KEY_ALL, until } from '../support/gateway-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { RawCaller } from '../support/raw-http.js';
import { RawPartner, type PartnerBehaviour } from '../support/raw-partner.js';
import { CONNECTIONS_PER_POOL } from '../../apps/gateway/src/proxy/upstreams.js';

const UPSTREAM_TIMEOUT_MS = 4000;
const MAX_INFLIGHT = 200;
/** Requests timed on each side of the comparison (their medians are compared). */
const SAMPLES = 9;

/**
 * A misbehaving partner (a raw-socket API) and hostile callers against a real gateway process:
 * one provider's requests cannot take another's slots, a 1xx storm cannot defeat the upstream
 * timeout, an answer that breaks after its head is a failure, and the protocol's edges (two
 * `Host` headers, `CONNECT`, a caller leaving mid-answer) are answered and logged.
 */
describe('a misbehaving partner and hostile callers, on a real gateway process', () => {
  const partner = new RawPartner();
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;
  let n = 0;

  beforeAll(async () => {
    emulators = await startProviderEmulators({ keepAlive: false });
    await partner.start();
    const credentials = emulators.credentials.oauth2;
    const env: Record<string, string> = {
      GATEWAY_API_KEYS: `${KEY_ALL}:*`,
      SANDBOX: 'false',
      TOKEN_WARM_ON_START: 'false',
      LOG_LEVEL: 'info',
      OAUTH_PROVIDERS: 'a,b',
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      MAX_INFLIGHT_PER_PROVIDER: String(MAX_INFLIGHT),
    };
    // Two providers on one API origin, told apart by their paths.
    for (const [name, api] of [
      ['A', partner.apiUrl('a')],
      ['B', partner.apiUrl('b')],
    ]) {
      Object.assign(env, {
        [`${name}_TOKEN_URL`]: emulators.tokenUrl('oauth2'),
        [`${name}_API_URL`]: api,
        [`${name}_CLIENT_ID`]: credentials.clientId,
        [`${name}_CLIENT_SECRET`]: credentials.clientSecret,
      });
    }
    gateway = await GatewayProcess.start(env, { oauth: { retry: FAST_RETRY } });
    for (const provider of ['a', 'b']) expect((await call(`GET /${provider}/ok/warm`)).answer?.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    const stderr = gateway?.stderr() ?? '';
    await gateway?.stop();
    await partner.close();
    await emulators?.close();
    expect(stderr).toBe('');
  });

  /** Sends `request` (a request line) with a key and a fresh request id, and waits for the answer or the end of the connection. */
  async function call(request: string, extra = '') {
    const id = `pf-${++n}`;
    const caller = await RawCaller.open(gateway.port);
    caller.write(`${request} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\n${extra}\r\n`);
    await caller.settle();
    caller.abort();
    return { id, caller, answer: caller.final() };
  }

  async function metrics(): Promise<string> {
    return (await fetch(`${gateway.url}/metrics`)).text();
  }

  const errorCount = (text: string, provider: string, code: string, status: number) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith('gateway_proxy_errors_total{') && [provider, code, String(status)].every((v) => l.includes(`"${v}"`)))
        ?.split(' ')[1] ?? 0,
    );

  async function timed(request: string): Promise<number> {
    const started = performance.now();
    const { answer } = await call(request);
    expect(answer?.status).toBe(200);
    return performance.now() - started;
  }

  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

  it("holds one provider's requests apart from another's on the same origin, and caps them", async () => {
    const undisturbed: number[] = [];
    for (let i = 0; i < SAMPLES; i++) undisturbed.push(await timed('GET /b/ok/undisturbed'));
    const held: RawCaller[] = [];
    for (let i = 0; i < MAX_INFLIGHT; i++) {
      const caller = await RawCaller.open(gateway.port);
      caller.write(`GET /a/hold/h${i} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\n\r\n`);
      held.push(caller);
    }
    const before = await metrics();
    try {
      // Their provider's pool is full (the rest wait for a slot), well before any of them times out.
      await held[0].waitFor(() => partner.count('hold') === CONNECTIONS_PER_POOL, 'the pool to be full', UPSTREAM_TIMEOUT_MS / 2);
      const disturbed: number[] = [];
      for (let i = 0; i < SAMPLES; i++) disturbed.push(await timed('GET /b/ok/disturbed'));
      expect(median(disturbed)).toBeLessThan(median(undisturbed) + 50);

      const over = await call('GET /a/ok/over-the-cap');
      expect(over.answer).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
      expect(JSON.parse(over.answer!.body.toString())).toMatchObject({ code: 'upstream_saturated', requestId: over.id });
      expect(errorCount(await metrics(), 'a', 'upstream_saturated', 503)).toBe(errorCount(before, 'a', 'upstream_saturated', 503) + 1);
    } finally {
      for (const caller of held) caller.abort();
    }
  }, 30_000);

  it('answers 504 at UPSTREAM_TIMEOUT_MS to an API that sends 102 Processing every 5 ms, relaying none of them', async () => {
    const started = performance.now();
    const { id, caller, answer } = await call('GET /a/info-storm/x');
    const took = performance.now() - started;
    expect(answer?.status).toBe(504);
    expect(caller.parsed().answers.map((a) => a.status)).toEqual([504]);
    expect(took).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS);
    expect(took).toBeLessThan(UPSTREAM_TIMEOUT_MS * 2);
    expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 504, outcome: 'problem' });
  });

  it.each([
    ['its head then the end of the connection', 'GET /a/head-close/x'],
    ['its head then a broken chunk', 'GET /a/bad-chunk/x'],
    ['a 204 announcing content', 'GET /a/body-on-204/x'],
  ])('answers 502 upstream_unreachable to an API that sends %s, and logs it as broken', async (_what, request) => {
    const before = await metrics();
    const { id, answer } = await call(request);
    expect(answer?.status).toBe(502);
    expect(JSON.parse(answer!.body.toString())).toMatchObject({ code: 'upstream_unreachable' });
    expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 502, outcome: 'upstream_broken' });
    expect(errorCount(await metrics(), 'a', 'upstream_broken', 502)).toBe(errorCount(before, 'a', 'upstream_broken', 502) + 1);
  });

  /** The API's real answer to a request sent after `behaviour`'s connection was dropped, on the same provider. */
  async function nextAnswerAfterDropOf(behaviour: PartnerBehaviour) {
    await until(() => (partner.closed.get(behaviour) ?? 0) >= partner.count(behaviour), `the ${behaviour} connection to be dropped`);
    const { caller, answer } = await call('GET /a/ok-keep/next');
    expect(caller.bytes().toString('latin1')).not.toContain('smuggled');
    return answer;
  }

  it.each([
    ['a 204', 'bytes-after-204'],
    ['a 304', 'bytes-after-304'],
  ] as const)(
    'answers 502 to %s followed by bytes nothing announced, and the next request on that provider gets its real answer',
    async (_what, behaviour) => {
      const before = await metrics();
      const { id, caller, answer } = await call(`GET /a/${behaviour}/x`);
      expect(caller.parsed().answers.map((a) => a.status)).toEqual([502]);
      expect(JSON.parse(answer!.body.toString())).toMatchObject({ code: 'upstream_unreachable' });
      expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 502, outcome: 'upstream_broken' });
      expect(errorCount(await metrics(), 'a', 'upstream_broken', 502)).toBe(errorCount(before, 'a', 'upstream_broken', 502) + 1);
      expect(await nextAnswerAfterDropOf(behaviour)).toMatchObject({ status: 200, body: Buffer.from('{"ok":true}') });
    },
  );

  it('relays the head of an answer to HEAD followed by bytes (undici reads nothing after it), and the next request gets its real answer', async () => {
    const id = `pf-${++n}`;
    const caller = await RawCaller.open(gateway.port);
    caller.write(`HEAD /a/bytes-after-head/x HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\n\r\n`);
    await caller.waitFor(() => caller.parsed(true).answers.length > 0, 'the answer');
    caller.abort();
    expect(caller.parsed(true).answers.map((a) => a.status)).toEqual([200]);
    expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 200, outcome: 'ok' });
    expect(await nextAnswerAfterDropOf('bytes-after-head')).toMatchObject({ status: 200, body: Buffer.from('{"ok":true}') });
  });

  it('relays a 204 whose extra bytes come after it was answered, and the next request on that provider gets its real answer', async () => {
    const { id, answer } = await call('GET /a/late-bytes-after-204/x');
    expect(answer).toMatchObject({ status: 204, complete: true });
    expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 204, outcome: 'ok' });
    expect(await nextAnswerAfterDropOf('late-bytes-after-204')).toMatchObject({ status: 200, body: Buffer.from('{"ok":true}') });
  });

  it('cuts the connection of a caller whose answer broke after part of it was sent, and logs the bytes sent', async () => {
    const before = await metrics();
    const { id, caller, answer } = await call('GET /a/part-close/x');
    expect(caller.closed).toBe(true);
    expect(answer).toMatchObject({ status: 200, complete: false });
    const line = await gateway.waitForAccessLine(id);
    expect(line).toMatchObject({ status: 200, outcome: 'upstream_broken', bytesOut: caller.bytesReceived });
    expect(errorCount(await metrics(), 'a', 'upstream_broken', 200)).toBe(errorCount(before, 'a', 'upstream_broken', 200) + 1);
  });

  it('logs a caller that leaves after the head of its answer with 499, and counts it', async () => {
    const before = await metrics();
    const id = `pf-${++n}`;
    const caller = await RawCaller.open(gateway.port);
    caller.write(`GET /a/part-hang/x HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\n\r\n`);
    await caller.waitFor(() => (caller.final()?.body.length ?? 0) > 0, 'part of the answer');
    caller.abort();
    expect(await gateway.waitForAccessLine(id)).toMatchObject({ status: 499, outcome: 'client_closed' });
    expect(errorCount(await metrics(), 'a', 'client_closed', 499)).toBe(errorCount(before, 'a', 'client_closed', 499) + 1);
  });

  it('answers a request with two Host headers 400 bad_request and closes the connection', async () => {
    const reached = partner.count('ok');
    const id = `pf-${++n}`;
    const caller = await RawCaller.open(gateway.port);
    caller.write(`GET /a/ok/x HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\nHost: other\r\n\r\n`);
    await caller.waitFor(() => caller.closed, 'the connection to close');
    const answer = caller.final();
    expect(answer?.status).toBe(400);
    expect(JSON.parse(answer!.body.toString())).toMatchObject({ code: 'bad_request', requestId: id });
    expect(answer?.headers.connection).toBe('close');
    expect(partner.count('ok')).toBe(reached);
    expect(gateway.logs().find((l) => l.msg === 'proxied' && l.reqId === id)).toMatchObject({ status: 400 });
  });

  it('answers CONNECT 405 method_not_allowed with Allow, logs it, then closes', async () => {
    const caller = await RawCaller.open(gateway.port);
    caller.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await caller.settle();
    await caller.waitFor(() => caller.closed, 'the connection to close');
    const answer = caller.final();
    expect(answer).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' } });
    const { requestId, code } = JSON.parse(answer!.body.toString()) as { requestId: string; code: string };
    expect(code).toBe('method_not_allowed');
    expect(await gateway.waitForAccessLine(requestId)).toMatchObject({ method: 'CONNECT', status: 405 });
  });

  it("forwards a caller's header value with bytes 0x80-0xFF byte for byte", async () => {
    const value = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0xff]);
    const caller = await RawCaller.open(gateway.port);
    caller.write(
      Buffer.concat([
        Buffer.from(`GET /a/echo/x HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-note: `),
        value,
        Buffer.from('\r\n\r\n'),
      ]),
    );
    await caller.settle();
    caller.abort();
    const seen = caller.final()!.body;
    expect(seen.includes(Buffer.concat([Buffer.from('x-note: '), value, Buffer.from('\r\n')]))).toBe(true);
  });
});
