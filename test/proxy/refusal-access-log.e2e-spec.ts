import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL, sendRaw } from '../support/gateway-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';

/** Requests the server answers by its own rules, before any proxying, still get one access line each (caller unknown). */
describe('access lines of requests refused by the server itself', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), LOG_LEVEL: 'info', MAX_HEADER_COUNT: '10' });
  }, 60_000);

  afterAll(async () => {
    expect(await gateway?.stop()).toBe(0);
    await emulators?.close();
  });

  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

  it.each([
    ['more header fields than MAX_HEADER_COUNT', 431, 'GET', [...Array.from({ length: 12 }, (_, i) => `x-filler-${i}: ${i}`)], ''],
    ['a transfer coding other than chunked', 501, 'POST', ['transfer-encoding: gzip, chunked'], '0\r\n\r\n'],
    ['a method the proxy does not forward', 405, 'PROPFIND', [], ''],
  ])('%s: %i and an access line with its request id', async (_what, status, method, extra, body) => {
    const reqId = `refused-${status}`;
    const request = head([
      `${method} /prio/x?secret=1 HTTP/1.1`,
      'Host: gw',
      `x-api-key: ${KEY_ALL}`,
      `x-request-id: ${reqId}`,
      'connection: close',
      ...extra,
    ]);
    const answer = await sendRaw(gateway.url, request + body);
    expect(answer.status).toBe(status);
    const line = await gateway.waitForAccessLine(reqId);
    expect(line).toMatchObject({ caller: '-', client: '127.0.0.1', provider: '-', method, path: '', status, bytesIn: 0 });
    expect(line.bytesOut).toBeGreaterThan(0);
  });

  it.each([
    ['a NUL in the target', 400, 'GET', 'GET /prio/\u0000x HTTP/1.1\r\nHost: gw\r\n\r\n'],
    ['a header field over the size Node reads', 431, 'GET', `GET /prio/x HTTP/1.1\r\nHost: gw\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`],
    ['a method no parser knows', 400, 'FOO', 'FOO /prio/x HTTP/1.1\r\nHost: gw\r\n\r\n'],
  ])("%s: the parser's %i and an access line with the answer's request id", async (_what, status, method, raw) => {
    const answer = await sendRaw(gateway.url, raw);
    expect(answer.status).toBe(status);
    const { requestId } = JSON.parse(answer.body) as { requestId: string };
    const line = await gateway.waitForAccessLine(requestId);
    expect(line).toMatchObject({ caller: '-', client: '127.0.0.1', provider: '-', method, path: '', status });
  });
});
