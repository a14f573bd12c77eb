import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { KEY_ALL } from '../support/gateway-harness.js';
import { FaultRig } from '../support/fault-rig.js';
import { parseAnswers, RawCaller } from '../support/raw-http.js';
import { waitUntil } from '../support/helpers.js';

/** `FUZZ_SEED` (and `FUZZ_PATH`, both printed on failure) replay a failing run; `FUZZ_RUNS` sets how many. */
const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const CLIENT_TIMEOUT_MS = 300;
/** Longer than any bound the gateway puts on one of these requests (client, upload and upstream timeouts). */
const ANSWER_WITHIN_MS = 5000;

const piece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('a', 'b1', 'c-d_e.f', '~x', 'k=v', ':@', 'ok') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'a',
      'b1',
      '.',
      '..',
      '%2e',
      '%2E%2e',
      '%2f',
      '%5C',
      '\\',
      '#',
      '?',
      '?x=1',
      '&y',
      ' ',
      '%00',
      '%0d%0a',
      '\u0001',
      '\u007f',
      '%',
      '%zz',
      '\u00e9',
      ';',
      '..;',
      ':',
      '@',
      '[',
      '|',
      '"',
      '%252e%252e',
      '',
      '~',
      '*',
      '=',
    ),
  },
);
const target = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('/up', '/t1') },
          { weight: 1, arbitrary: fc.constantFrom('/refused', '/nope', '/health', '/tokens', '/metrics', '', '/up/') },
        ),
        fc.array(piece, { maxLength: 4 }),
      )
      .map(([p, rest]) => `${p}/${rest.join('/')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://evil.example/up/x', '//up/x', 'up/x', '/health/ready', '/health') },
);
const header = fc.oneof(
  fc.tuple(fc.constantFrom('content-length'), fc.constantFrom('0', '5', '-1', 'abc', '99999999999', ' 5', '5, 5')),
  fc.tuple(fc.constantFrom('transfer-encoding'), fc.constantFrom('chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'CHUNKED')),
  fc.tuple(fc.constantFrom('expect'), fc.constantFrom('100-continue', 'something-else')),
  fc.tuple(fc.constantFrom('connection'), fc.constantFrom('close', 'keep-alive', 'x-api-key, te', 'upgrade')),
  fc.tuple(
    fc.constantFrom('forwarded', 'x-forwarded-for', 'x-real-ip', 'x-original-url', 'x-request-id', 'host', 'upgrade', 'te'),
    fc.constantFrom('/admin', '203.0.113.1', 'x', 'h2c'),
  ),
  fc.tuple(fc.constantFrom('x-filler', 'bad name', 'x-ctl'), fc.constantFrom('v', 'a\u0001b', 'x'.repeat(20_000))),
);
const request = fc.record({
  method: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
    { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'TRACE', 'get', 'CONNECT') },
  ),
  target,
  version: fc.oneof({ weight: 6, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0') }),
  key: fc.oneof({ weight: 4, arbitrary: fc.constant(KEY_ALL) }, { weight: 1, arbitrary: fc.constantFrom('not-a-key', undefined) }),
  headers: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(header, { minLength: 1, maxLength: 3 }) }),
  fillers: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 5 }) }, { weight: 1, arbitrary: fc.nat({ max: 30 }) }),
  framing: fc.constantFrom('none', 'length', 'chunked', 'raw'),
  bodySize: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 3000 }) }, { weight: 1, arbitrary: fc.nat({ max: 10_000 }) }),
  /** How much of the bytes are written before the caller goes away, or `1` for all of them. */
  abortAt: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 0.99, noNaN: true }) }),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.target} ${r.version}`, 'Host: gw'];
  if (r.key !== undefined) lines.push(`x-api-key: ${r.key}`);
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  for (let i = 0; i < r.fillers; i++) lines.push(`x-filler-${i}: ${i}`);
  const body = Buffer.alloc(r.bodySize, 0x62);
  if (r.framing === 'length') lines.push(`content-length: ${body.length}`);
  if (r.framing === 'chunked') lines.push('transfer-encoding: chunked');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (r.framing === 'none' || (r.method === 'HEAD' && r.framing === 'raw')) return head;
  if (r.framing === 'chunked')
    return Buffer.concat([head, Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  return Buffer.concat([head, body]);
}

/** Under the base path of a provider of the rig, before and after a URL parser resolves it. */
const BASES = ['/up/api', '/t1/api'];
const underABase = (path: string) => {
  const resolved = new URL(path, 'http://upstream.example').pathname;
  return BASES.some((base) => [path.split('?')[0], resolved].every((p) => p === base || p.startsWith(`${base}/`)));
};

/**
 * Random raw requests (methods, targets, header sets, framings, body sizes, callers that go away)
 * at a real gateway process: every connection gets well-formed HTTP answers or is closed, no
 * request reaches an upstream outside its provider's base path, the process stays up.
 */
describe('fuzz: random raw requests at a live gateway', () => {
  const rig = new FaultRig();

  beforeAll(async () => {
    await rig.start({
      tokenProviders: 1,
      env: {
        MAX_BODY_BYTES: '4096',
        MAX_HEADER_COUNT: '20',
        CLIENT_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS),
        UPLOAD_TIMEOUT_MS: '2000',
        UPSTREAM_TIMEOUT_MS: '1000',
      },
    });
  }, 90_000);
  afterAll(async () => {
    const stderr = rig.gateway?.stderr() ?? '';
    await rig.stop();
    expect(stderr).toBe('');
  });

  it(`answers well-formed HTTP or closes, never forwards outside a base path, never goes down (seed ${SEED}, ${RUNS} runs)`, async () => {
    const property = fc.asyncProperty(request, async (r) => {
      const bytes = bytesOf(r);
      const caller = await RawCaller.open(rig.gateway.port);
      if (r.abortAt < 1) {
        caller.write(bytes.subarray(0, Math.floor(bytes.length * r.abortAt)));
        caller.abort();
      } else {
        caller.write(bytes);
        await caller.waitFor(
          () =>
            caller.closed || (caller.parsed().answers.length > 0 && caller.parsed(r.method === 'HEAD').answers.every((a) => a.complete)),
          'an answer or the end of the connection',
          ANSWER_WITHIN_MS,
        );
        const wire = caller.parsed(r.method === 'HEAD');
        expect(wire.malformed).toBeUndefined();
        if (!caller.closed) expect(wire.answers.length).toBeGreaterThan(0);
        caller.abort();
      }
      expect(rig.gateway.alive()).toBe(true);
      expect(rig.upstream.targets.filter((t) => !underABase(t))).toEqual([]);
    });
    try {
      await fc.assert(property, { seed: SEED, numRuns: RUNS, path: process.env.FUZZ_PATH, interruptAfterTimeLimit: 150_000 });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new Error(
        `replay with FUZZ_SEED=${SEED} (and FUZZ_PATH from the report below):\n${(error as Error).message}\n${cause instanceof Error ? cause.message : ''}`,
      );
    }
    // Not vacuous: many of them did reach the upstream.
    expect(rig.upstream.targets.length).toBeGreaterThan(RUNS / 40);
    // Nothing left behind: every pooled request done, and the process still serving.
    await waitUntil(async () => (await rig.gateway.stats()).size === 0, 'the upstream pools to be idle');
    const check = await RawCaller.open(rig.gateway.port);
    check.write(`GET /up/ok/after-fuzz HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nconnection: close\r\n\r\n`);
    await check.settle();
    expect(check.final()?.status).toBe(200);
    expect(parseAnswers(check.bytes(), true).malformed).toBeUndefined();
  }, 240_000);
});
