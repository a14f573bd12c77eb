import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEY_ALL, KEY_LATAM_PRIO, send, startHarness, until, type Harness } from '../support/gateway-harness.js';
import { RawCaller } from '../support/raw-http.js';
import { waitUntil } from '../support/helpers.js';

const MiB = 1024 * 1024;
const CLIENT_TIMEOUT_MS = 400;
const UPLOAD_TIMEOUT_MS = 1500;

const connections = (h: Harness) =>
  new Promise<number>((resolve, reject) =>
    h.gateway.app.getHttpServer().getConnections((error, n) => (error ? reject(error) : resolve(n))),
  );

const portOf = (h: Harness) => Number(new URL(h.url).port);
const problem = (caller: RawCaller) => JSON.parse(caller.final()!.body.toString()) as Record<string, unknown>;

const postHead = (target: string, headers: Record<string, string>) =>
  `POST ${target} HTTP/1.1\r\nHost: gw\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;

describe('callers that are slow, silent or broken', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      CLIENT_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS),
      UPLOAD_TIMEOUT_MS: String(UPLOAD_TIMEOUT_MS),
      MAX_BODY_BYTES: String(MiB),
    });
    await send(h.url, '/prio/warm', { headers: { 'x-api-key': KEY_ALL } });
  });
  afterAll(() => h.close());

  it('regression: a malformed request is answered 400 and its socket destroyed, so callers that neither read nor close keep no descriptor', async () => {
    const before = await connections(h);
    const callers = await Promise.all(Array.from({ length: 50 }, () => RawCaller.open(portOf(h))));
    for (const caller of callers) {
      caller.socket.pause(); // reads nothing, closes nothing
      caller.write(`GET /prio/x HTTP/1.1\r\nHost: gw\r\nthis is no header line\r\nx-api-key: ${KEY_ALL}\r\n\r\n`);
    }
    await waitUntil(async () => (await connections(h)) <= before, 'the gateway to let go of every malformed connection');
    for (const caller of callers) {
      caller.socket.resume();
      await caller.settle();
      expect(caller.final()?.status).toBe(400);
      expect(problem(caller)).toMatchObject({ code: 'bad_request' });
    }
  });

  it('answers 408 request_timeout and closes a connection whose request head is not complete within CLIENT_TIMEOUT_MS', async () => {
    const silent = await RawCaller.open(portOf(h));
    const half = await RawCaller.open(portOf(h));
    half.write(`GET /prio/x HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\n`);
    for (const caller of [silent, half]) {
      await caller.waitFor(() => caller.closed, 'the gateway to close the connection');
      expect(caller.final()?.status).toBe(408);
      expect(problem(caller)).toMatchObject({ code: 'request_timeout' });
    }
  });

  it('regression: a slow upload has a time limit: no body byte for CLIENT_TIMEOUT_MS is answered 408 and the connection closed', async () => {
    const before = h.emulators.apiRequests('prio');
    const caller = await RawCaller.open(portOf(h));
    caller.write(postHead('/prio/upload', { 'x-api-key': KEY_ALL, 'content-length': String(64 * 1024) }) + 'x'.repeat(1000));
    await caller.settle();
    expect(caller.final()).toMatchObject({ status: 408, headers: { connection: 'close' } });
    expect(problem(caller)).toMatchObject({
      code: 'request_timeout',
      provider: 'prio',
      detail: `no byte of the body for ${CLIENT_TIMEOUT_MS} ms`,
    });
    await caller.waitFor(() => caller.closed, 'the connection to close');
    expect(h.emulators.apiRequests('prio')).toBe(before + 1); // it had started upstream, and was cut there too
  });

  it('answers 408 to a body that keeps trickling past UPLOAD_TIMEOUT_MS, however regularly its bytes come', async () => {
    const caller = await RawCaller.open(portOf(h));
    caller.write(postHead('/prio/upload', { 'x-api-key': KEY_ALL, 'transfer-encoding': 'chunked' }));
    // A byte well within CLIENT_TIMEOUT_MS of the previous one, until the gateway answers.
    const trickle = setInterval(() => caller.write('1\r\nx\r\n'), CLIENT_TIMEOUT_MS / 4);
    try {
      await caller.settle(30_000);
    } finally {
      clearInterval(trickle);
    }
    expect(caller.final()?.status).toBe(408);
    expect(problem(caller)).toMatchObject({ code: 'request_timeout', detail: `the body did not arrive within ${UPLOAD_TIMEOUT_MS} ms` });
  });

  it('regression: a body over MAX_BODY_BYTES announced by content-length is answered 413, read by an uploader that writes it all first', async () => {
    const before = h.emulators.apiRequests('payme');
    const caller = await RawCaller.open(portOf(h));
    // Like curl uploading: all of it written before anything is read.
    caller.socket.pause();
    await caller.writeAll(postHead('/payme/upload', { 'x-api-key': KEY_ALL, 'content-length': String(12 * MiB) }));
    await caller.writeAll(Buffer.alloc(12 * MiB, 1));
    caller.socket.resume();
    await caller.settle();
    await caller.waitFor(() => caller.closed, 'the connection to close');
    expect(caller.error).toBeUndefined(); // no ECONNRESET, no EPIPE: the whole body was read and dropped
    expect(caller.final()).toMatchObject({ status: 413, headers: { connection: 'close' }, complete: true });
    expect(problem(caller)).toMatchObject({ code: 'payload_too_large', provider: 'payme' });
    expect(h.emulators.apiRequests('payme')).toBe(before);
  });

  it('lets a caller still sending its body read an early 401 (connection: close, then a lingering close)', async () => {
    const caller = await RawCaller.open(portOf(h));
    caller.socket.pause();
    await caller.writeAll(postHead('/prio/upload', { 'x-api-key': 'not-a-key', 'content-length': String(12 * MiB) }));
    await caller.writeAll(Buffer.alloc(12 * MiB, 1));
    caller.socket.resume();
    await caller.waitFor(() => caller.closed, 'the connection to close');
    expect(caller.error).toBeUndefined();
    expect(caller.final()).toMatchObject({ status: 401, headers: { connection: 'close' }, complete: true });
  });

  it('lingers only as long as the caller keeps sending: silent for CLIENT_TIMEOUT_MS after an early answer, its connection is closed', async () => {
    const caller = await RawCaller.open(portOf(h));
    caller.write(postHead('/prio/upload', { 'x-api-key': 'not-a-key', 'content-length': String(MiB) }) + 'x'.repeat(1000));
    await caller.waitFor(() => caller.closed, 'the connection to close');
    expect(caller.final()).toMatchObject({ status: 401, complete: true });
  });

  it.each([
    ['401 to an unknown key', '/prio/upload', 'not-a-key', 10, 401],
    ['403 to a key not allowed for the provider', '/sabre/upload', KEY_LATAM_PRIO, 10, 403],
    ['404 to an unknown provider', '/nope/upload', KEY_ALL, 10, 404],
    ['413 to a declared length over MAX_BODY_BYTES', '/prio/upload', KEY_ALL, 2 * MiB, 413],
    ['400 to a path that would leave the base URL', '/prio/%2e%2e/upload', KEY_ALL, 10, 400],
  ])('answers Expect: 100-continue with the %s instead of a 100', async (_name, target, key, length, status) => {
    const caller = await RawCaller.open(portOf(h));
    caller.write(postHead(target, { 'x-api-key': key, 'content-length': String(length), expect: '100-continue' }));
    await caller.waitFor(() => caller.final() !== undefined, 'the answer');
    expect(caller.parsed().answers.map((a) => a.status)).toEqual([status]);
    expect(caller.final()?.headers.connection).toBe('close');
    caller.abort();
  });

  it('sends a 100 Continue to an acceptable request with Expect: 100-continue, then forwards its body', async () => {
    const caller = await RawCaller.open(portOf(h));
    caller.write(postHead('/prio/upload', { 'x-api-key': KEY_ALL, 'content-length': '5', expect: '100-continue' }));
    await caller.waitFor(() => caller.got100(), 'the 100 Continue');
    caller.write('hello');
    await caller.waitFor(() => caller.final()?.complete === true, 'the answer');
    expect(caller.parsed().answers.map((a) => a.status)).toEqual([100, 200]);
    expect(JSON.parse(caller.final()!.body.toString())).toMatchObject({ bytes: 5 });
    caller.abort();
  });
});

describe('regression: 128 trickling uploads for one provider no longer starve the other providers on the same origin', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('serves requests for another provider (with and without a body) while 128 uploads larger than any buffer hold their connections', async () => {
    for (const target of ['/prio/warm', '/transatel/warm'])
      expect((await send(h.url, target, { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);
    const port = portOf(h);
    const before = h.emulators.apiRequests('prio');
    const uploads = await Promise.all(
      Array.from({ length: 128 }, async () => {
        const caller = await RawCaller.open(port);
        // 8 MiB announced, 16 KiB sent: each one holds an upstream connection until the last byte, which never comes.
        caller.write(postHead('/prio/upload', { 'x-api-key': KEY_ALL, 'content-length': String(8 * MiB) }) + 'x'.repeat(16 * 1024));
        return caller;
      }),
    );
    await until(() => h.emulators.apiRequests('prio') - before === 128, 'every upload to reach the provider');
    expect(h.gateway.upstreamStats().running).toBeGreaterThanOrEqual(128);

    const other = await send(h.url, '/transatel/lines', { headers: { 'x-api-key': KEY_ALL } });
    const otherUpload = await send(h.url, '/transatel/upload', { method: 'POST', headers: { 'x-api-key': KEY_ALL }, body: 'small' });
    const sameProviderRead = await send(h.url, '/prio/products', { headers: { 'x-api-key': KEY_ALL } });
    expect([other.status, otherUpload.status, sameProviderRead.status]).toEqual([200, 200, 200]);
    expect(uploads.every((u) => !u.closed && u.final() === undefined)).toBe(true); // still trickling meanwhile

    for (const upload of uploads) upload.abort();
    await until(() => h.gateway.upstreamStats().running === 0, 'the uploads to be cut upstream too');
  });
});
