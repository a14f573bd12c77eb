import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL, problemOf, send } from '../support/gateway-harness.js';
import { GatewayProcess, runGatewayToExit } from '../support/gateway-process.js';
import { HoldingUpstream } from '../support/holding-upstream.js';
import { freePort } from '../support/helpers.js';

const OPERATOR_ROUTES = ['/health', '/health/ready', '/metrics', '/tokens'];

/** `ADMIN_PORT` / `ADMIN_HOST`: the operator routes on a port of their own, on a real gateway process. */
describe('ADMIN_PORT', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream;
  let gateway: GatewayProcess;
  let admin = '';

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    upstream = new HoldingUpstream();
    await upstream.start();
    const adminPort = await freePort();
    admin = `http://127.0.0.1:${adminPort}`;
    gateway = await GatewayProcess.start({
      ...emulatorEnv(emulators),
      PRIO_API_URL: upstream.url,
      LOG_LEVEL: 'info',
      ADMIN_PORT: String(adminPort),
    });
  }, 60_000);

  afterAll(async () => {
    if (gateway?.alive()) gateway.child.kill('SIGKILL');
    upstream.release();
    await upstream.close();
    await emulators.close();
  });

  it('serves the operator routes on ADMIN_HOST:ADMIN_PORT (ADMIN_HOST defaulting to HOST), with their own keys and 405s', async () => {
    expect(await gateway.waitForLog((l) => l.msg === 'gateway listening', 'the listening line')).toMatchObject({ adminUrl: admin });
    // HOST=127.0.0.1, so the admin port too listens there only (127.0.0.2 is the loopback too, another address).
    await expect(fetch(admin.replace('127.0.0.1', '127.0.0.2') + '/health')).rejects.toThrow();
    expect((await send(admin, '/health')).status).toBe(200);
    expect((await send(admin, '/health/ready')).status).toBe(200);
    expect((await send(admin, '/metrics')).headers['content-type']).toMatch(/^text\/plain/);
    expect((await send(admin, '/tokens')).status).toBe(401);
    expect((await send(admin, '/tokens', { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);
    const post = await send(admin, '/health', { method: 'POST' });
    expect({ status: post.status, allow: post.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
    // The admin port proxies nothing.
    const proxied = await send(admin, '/prio/echo', { headers: { 'x-api-key': KEY_ALL } });
    expect({ status: proxied.status, code: problemOf(proxied).code }).toEqual({ status: 404, code: 'not_found' });
  });

  it('on PORT, the operator paths answer what any unknown provider path answers', async () => {
    for (const path of [...OPERATOR_ROUTES, '/nope']) {
      const bare = await send(gateway.url, path);
      const keyed = await send(gateway.url, path, { headers: { 'x-api-key': KEY_ALL } });
      const deleted = await send(gateway.url, path, { method: 'DELETE', headers: { 'x-api-key': KEY_ALL } });
      expect({ path, bare: bare.status, keyed: [keyed.status, problemOf(keyed).code], deleted: deleted.status }).toEqual({
        path,
        bare: 401,
        keyed: [404, 'unknown_provider'],
        deleted: 404,
      });
    }
    expect((await send(gateway.url, '/prio/echo', { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);
  });

  it('on SIGTERM, the admin port answers readiness 503 while a request drains, then both listeners close and the process exits 0', async () => {
    const held = send(gateway.url, '/prio/hold', { headers: { 'x-api-key': KEY_ALL } });
    await upstream.holding(1);
    const exited = gateway.stop();
    await gateway.waitForLog((l) => l.msg === 'shutting down: no new connections, finishing in-flight requests', 'the drain to start');
    await expect(fetch(`${gateway.url}/prio/echo`, { headers: { 'x-api-key': KEY_ALL } })).rejects.toThrow();
    const ready = await send(admin, '/health/ready');
    expect({ status: ready.status, body: JSON.parse(ready.body) as unknown }).toMatchObject({
      status: 503,
      body: { status: 'unavailable', draining: true },
    });
    upstream.release();
    expect((await held).status).toBe(200);
    expect(await exited).toBe(0);
    await expect(fetch(`${admin}/health`)).rejects.toThrow();
  });
});

describe('ADMIN_PORT validation', () => {
  let emulators: ProviderEmulators;
  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(async () => emulators.close());

  it.each([
    ['not a number', { ADMIN_PORT: 'metrics' }],
    ['out of range', { ADMIN_PORT: '70000' }],
    ['zero', { ADMIN_PORT: '0' }],
    ['the same as PORT', { PORT: '4719', ADMIN_PORT: '4719' }],
  ])('%s: exit 1 with one line naming ADMIN_PORT', async (_what, vars) => {
    const { code, output } = await runGatewayToExit({ ...emulatorEnv(emulators), ...vars });
    expect(code).toBe(1);
    const lines = output
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('  '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ADMIN_PORT');
  });

  it('ADMIN_HOST: the admin port listens there, the proxy on HOST', async () => {
    const adminPort = await freePort();
    const gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), ADMIN_PORT: String(adminPort), ADMIN_HOST: '127.0.0.2' });
    try {
      expect((await fetch(`http://127.0.0.2:${adminPort}/health`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${adminPort}/health`)).rejects.toThrow();
      expect(new URL(gateway.url).hostname).toBe('127.0.0.1');
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it('a busy ADMIN_PORT: exit 1 with one line naming ADMIN_PORT, before any success line', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const { code, output } = await runGatewayToExit({ ...emulatorEnv(emulators), ADMIN_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toContain(`127.0.0.1:${port} is already in use (set ADMIN_PORT, or ADMIN_HOST, to a free one)`);
      expect(output).not.toMatch(/successfully started|gateway listening/);
    } finally {
      busy.close();
    }
  });
});
