import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL, problemOf, send, sendRaw } from '../support/gateway-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';

const PROXIED = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** A method a path is not served in: 405 problem+json with `Allow`, on a real gateway process. */
describe('405 method_not_allowed with Allow', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    expect(await gateway?.stop()).toBe(0);
    await emulators?.close();
  });

  it("answers a method an operator route does not serve 405 with the route's methods, without asking for a key", async () => {
    for (const [method, target] of [
      ['POST', '/health'],
      ['DELETE', '/metrics'],
      ['PUT', '/tokens'],
      ['OPTIONS', '/health/ready'],
      ['PATCH', '/tokens?x=1'],
    ]) {
      const answer = await send(gateway.url, target, { method });
      expect({ method, target, status: answer.status, allow: answer.headers.allow, type: answer.headers['content-type'] }).toEqual({
        method,
        target,
        status: 405,
        allow: 'GET, HEAD',
        type: 'application/problem+json',
      });
      expect(problemOf(answer)).toMatchObject({ status: 405, code: 'method_not_allowed' });
    }
  });

  it('still serves the routes in their own methods, and other paths under those names reach the proxy', async () => {
    expect((await send(gateway.url, '/health')).status).toBe(200);
    expect((await send(gateway.url, '/health', { method: 'HEAD' })).status).toBe(200);
    expect((await send(gateway.url, '/tokens', { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);
    const nested = await send(gateway.url, '/health/x', { method: 'POST', headers: { 'x-api-key': KEY_ALL } });
    expect({ status: nested.status, code: problemOf(nested).code }).toEqual({ status: 404, code: 'unknown_provider' });
  });

  it('answers a method the proxy does not forward 405 with the proxied methods, whatever the key', async () => {
    for (const [method, headers] of [
      ['PROPFIND', {}],
      ['TRACE', { 'x-api-key': KEY_ALL }],
      ['MKCOL', { 'x-api-key': 'not-a-key' }],
    ] as const) {
      const answer = await send(gateway.url, '/prio/x', { method, headers });
      expect({ method, status: answer.status, allow: answer.headers.allow, code: problemOf(answer).code }).toEqual({
        method,
        status: 405,
        allow: PROXIED,
        code: 'method_not_allowed',
      });
    }
  });

  it('answers a method no parser knows 400 and keeps serving', async () => {
    const answer = await sendRaw(gateway.url, 'FOO /prio/x HTTP/1.1\r\nHost: gw\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'bad_request' });
    expect((await send(gateway.url, '/health')).status).toBe(200);
  });
});
