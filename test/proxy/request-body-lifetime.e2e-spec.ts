import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEY_ALL, until } from '../support/gateway-harness.js';
import { FaultRig } from '../support/fault-rig.js';
import { RawCaller } from '../support/raw-http.js';
import { waitUntil } from '../support/helpers.js';

const MAX_BODY_BYTES = 8192;

/** A POST head; `length` set: with content-length, else chunked. */
const head = (target: string, id: string, length?: number) =>
  `POST ${target} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nx-request-id: ${id}\r\n` +
  (length === undefined ? 'transfer-encoding: chunked\r\n' : `content-length: ${length}\r\n`) +
  '\r\n';
const chunk = (size: number) => `${size.toString(16)}\r\n${'b'.repeat(size)}\r\n`;

/**
 * Issue #11: a request body destroyed with an error while nothing listened for it ended the whole
 * process ("Unhandled 'error' event ... on RequestBody instance"). Each way in is reproduced on a
 * real gateway process, which must answer that caller and keep serving.
 */
describe('regression: a request body destroyed while nothing listens no longer ends the process', () => {
  const rig = new FaultRig();
  let served = 0;
  const stillServes = async () => {
    const id = `still-${++served}`;
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(`GET /up/ok/${id} HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY_ALL}\r\nconnection: close\r\n\r\n`);
    await caller.settle();
    expect(caller.final()?.status).toBe(200);
    expect(rig.gateway.alive()).toBe(true);
  };

  beforeAll(async () => {
    await rig.start({
      tokenProviders: 2,
      env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), UPSTREAM_TIMEOUT_MS: '800', CLIENT_TIMEOUT_MS: '5000' },
      gateway: { upstreamConnections: 2 },
    });
  }, 90_000);
  afterAll(() => rig.stop());

  it('answers 502 upstream_unreachable to a body for an upstream that refuses the connection', async () => {
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(`${head('/refused/x', 'refused-body', 3)}abc`);
    await caller.settle();
    expect(caller.final()).toMatchObject({ status: 502 });
    expect(JSON.parse(caller.final()!.body.toString())).toMatchObject({ code: 'upstream_unreachable', provider: 'refused' });
    await stillServes();
  });

  it('answers 504 upstream_timeout to a body for an upstream whose connection times out', async () => {
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(`${head('/blackhole/x', 'blackhole-body', 3)}abc`);
    await caller.settle();
    expect(caller.final()).toMatchObject({ status: 504 });
    await stillServes();
  });

  it('logs 499 for a caller that goes away with its body while its request waits for a token', async () => {
    rig.emulators.failTokenEndpoint('oauth2', { kind: 'hang', times: 1 });
    const hanging = rig.emulators.hangingRequests('oauth2');
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(head('/t1/x', 'gone-waiting-token') + chunk(100));
    await until(() => rig.emulators.hangingRequests('oauth2') > hanging, 'the token request to hang');
    caller.abort();
    expect(await rig.gateway.waitForAccessLine('gone-waiting-token')).toMatchObject({ status: 499, provider: 't1' });
    rig.emulators.releaseHanging('oauth2');
    await stillServes();
  });

  it('logs 499 for a caller that goes away with its body while its request waits for a pool slot', async () => {
    const fillers = await Promise.all(
      [1, 2].map(async (n) => {
        const filler = await RawCaller.open(rig.gateway.port);
        filler.write(`${head(`/up/hold/filler-${n}`, `filler-${n}`, 1)}x`);
        return filler;
      }),
    );
    await until(() => rig.upstream.heldCount() === 2, 'the pool to be full');
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(head('/up/ok/gone-waiting-slot', 'gone-waiting-slot') + chunk(100));
    await waitUntil(async () => (await rig.gateway.stats()).queued >= 1, 'the request to wait for a slot');
    caller.abort();
    expect(await rig.gateway.waitForAccessLine('gone-waiting-slot')).toMatchObject({ status: 499, provider: 'up' });
    rig.upstream.releaseAll();
    for (const filler of fillers) await filler.settle();
    await waitUntil(async () => (await rig.gateway.stats()).size === 0, 'the pools to be idle');
    expect(rig.upstream.record('gone-waiting-slot')?.complete ?? false).toBe(false);
    await stillServes();
  });

  it('answers 413 payload_too_large to a chunked body that crosses MAX_BODY_BYTES while the token is fetched', async () => {
    rig.emulators.failTokenEndpoint('oauth2', { kind: 'hang', times: 1 });
    const hanging = rig.emulators.hangingRequests('oauth2');
    const caller = await RawCaller.open(rig.gateway.port);
    caller.write(head('/t2/x', 'over-waiting-token') + chunk(1000));
    await until(() => rig.emulators.hangingRequests('oauth2') > hanging, 'the token request to hang');
    caller.write(chunk(MAX_BODY_BYTES));
    await caller.settle();
    expect(caller.final()).toMatchObject({ status: 413, headers: { connection: 'close' } });
    rig.emulators.releaseHanging('oauth2');
    await stillServes();
  });

  it('regression: SIGHUP (sent by many process managers) no longer stops the gateway: one log line each, and it keeps serving', async () => {
    const logged = () => rig.gateway.lines.filter((line) => line.includes('SIGHUP')).length;
    for (const n of [1, 2]) {
      rig.gateway.child.kill('SIGHUP');
      await until(() => logged() === n, `SIGHUP number ${n} to be logged`);
      await stillServes();
    }
    expect(JSON.parse(rig.gateway.lines.find((line) => line.includes('SIGHUP'))!)).toMatchObject({
      level: 30,
      msg: 'SIGHUP ignored: no GATEWAY_API_KEYS_FILE to reload',
    });
  });
});
