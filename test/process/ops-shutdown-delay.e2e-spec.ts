import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL, problemOf, send } from '../support/gateway-harness.js';
import { GatewayProcess, spawnMain } from '../support/gateway-process.js';
import { HoldingUpstream } from '../support/holding-upstream.js';
import { freePort, waitUntil } from '../support/helpers.js';

const REGISTER = fileURLToPath(new URL('../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../../apps/gateway/src/main.ts', import.meta.url));

const PROBE = fileURLToPath(new URL('../support/loading-probe.mjs', import.meta.url));
const LOADING = 'loading gateway.runner';

const DRAIN_STARTED = 'shutting down: no new connections, finishing in-flight requests';

/** `SHUTDOWN_DELAY_MS` and signals around start-up, on real gateway processes. */
describe('SHUTDOWN_DELAY_MS: leaving before stopping', () => {
  let emulators: ProviderEmulators;
  let upstream: HoldingUpstream;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(() => emulators.close());
  afterEach(async () => {
    if (gateway?.alive()) gateway.child.kill('SIGKILL');
    upstream?.release();
    await upstream?.close();
  });

  it.each([
    ['without ADMIN_PORT: probes on PORT', false],
    ['with ADMIN_PORT: probes on ADMIN_PORT', true],
  ])(
    '%s see 503 draining while callers are still served, then the drain runs its own SHUTDOWN_TIMEOUT_MS and exits 0',
    async (_, withAdmin) => {
      upstream = new HoldingUpstream();
      await upstream.start();
      const adminPort = withAdmin ? await freePort() : undefined;
      gateway = await GatewayProcess.start({
        ...emulatorEnv(emulators),
        PRIO_API_URL: upstream.url,
        LOG_LEVEL: 'info',
        // The delay is longer than the timeout: a timeout counted from the signal would cut the held request.
        SHUTDOWN_DELAY_MS: '3000',
        SHUTDOWN_TIMEOUT_MS: '1000',
        ...(adminPort ? { ADMIN_PORT: String(adminPort) } : {}),
      });
      const probes = adminPort ? `http://127.0.0.1:${adminPort}` : gateway.url;
      expect((await send(probes, '/health/ready')).status).toBe(200);
      const held = send(gateway.url, '/prio/hold', { headers: { 'x-api-key': KEY_ALL } });
      await upstream.holding(1);

      const exited = gateway.stop();
      await gateway.waitForLog((l) => String(l.msg).startsWith('shutting down'), 'the shutdown to begin');
      const ready = await send(probes, '/health/ready');
      expect({ status: ready.status, body: problemOf(ready) }).toMatchObject({
        status: 503,
        body: { status: 'unavailable', draining: true },
      });
      // New connections are still accepted and served during the delay.
      const served = await send(gateway.url, '/prio/echo', { headers: { 'x-api-key': KEY_ALL } });
      expect({ status: served.status, body: served.body }).toEqual({ status: 200, body: '{"ok":true}' });

      await gateway.waitForLog((l) => l.msg === DRAIN_STARTED, 'the drain to start after the delay');
      await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
      upstream.release();
      expect((await held).status).toBe(200);
      expect(await exited).toBe(0);
      expect(gateway.logs().find((l) => l.msg === 'gateway stopped')).toMatchObject({ forced: false });
    },
    60_000,
  );

  it('a SIGTERM during start-up ends it with one line and exit 0', async () => {
    // A "Redis" that accepts and never answers: start-up waits for it, so the signal lands before the gateway listens.
    let connect!: () => void;
    const connected = new Promise<void>((resolve) => (connect = resolve));
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      connect();
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const child = spawnMain(
      {
        ...emulatorEnv(emulators),
        LOG_LEVEL: 'info',
        REDIS_URL: `redis://127.0.0.1:${(silent.address() as { port: number }).port}`,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      },
      {},
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await connected;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.trim().split('\n')).toEqual(['SIGTERM during start-up: the gateway stops before serving']);
    for (const socket of sockets) socket.destroy();
    silent.close();
  }, 60_000);

  it('a SIGTERM while the entry point is still loading its modules ends it with one line and exit 0', async () => {
    const child = spawn(process.execPath, ['--import', REGISTER, '--import', PROBE, MAIN], {
      env: { PATH: process.env.PATH, ...emulatorEnv(emulators), HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The probe's line: the entry asks for the runner, whose modules (most of the gateway) are still to load.
    await waitUntil(() => output.includes(LOADING), 'the entry point to load the runner', 30_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.trim().split('\n')).toEqual([LOADING, 'SIGTERM during start-up: the gateway stops before serving']);
  }, 60_000);
});
