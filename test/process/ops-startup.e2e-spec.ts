import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { createGateway } from '../../apps/gateway/src/gateway.factory.js';
import { runGateway } from '../../apps/gateway/src/gateway.runner.js';
import { emulatorEnv, KEY_ALL, LogCapture } from '../support/gateway-harness.js';
import { jsonLines, scratchDir, startProcess, waitForHealth } from '../support/processes.js';
import { freePort, waitUntil } from '../support/helpers.js';

const TS_REGISTER = fileURLToPath(new URL('../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url));
const NO_PINO_PRETTY = fileURLToPath(new URL('../support/no-pino-pretty.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../../apps/gateway/src/main.ts', import.meta.url));

/** The gateway's `main.ts` in its own process, from the sources. */
const gatewayProcess = (env: Record<string, string>, imports: string[] = []) =>
  startProcess(process.execPath, ['--import', TS_REGISTER, ...imports.flatMap((i) => ['--import', i]), MAIN], { env });

function fakeIo() {
  const io = { lines: [] as string[], exitCodes: [] as number[] };
  return { io, runnerIo: { exit: (code: number) => void io.exitCodes.push(code), error: (line: string) => void io.lines.push(line) } };
}

describe('defaults that cannot fool an operator', () => {
  it('NODE_ENV=production with no provider: exit 1, one line saying what to set, nothing listening (regression: a healthy-looking sandbox)', async () => {
    const { io, runnerIo } = fakeIo();
    expect(await runGateway({ NODE_ENV: 'production', PORT: '0' }, runnerIo)).toBeUndefined();
    expect(io.exitCodes).toEqual([1]);
    expect(io.lines).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}providers: none is configured and NODE_ENV=production never starts the sandbox/),
      expect.stringMatching(/^ {2}GATEWAY_API_KEYS: no caller key is configured and NODE_ENV=production/),
    ]);
  });

  it('SANDBOX=false with no provider: exit 1 the same way', async () => {
    const { io, runnerIo } = fakeIo();
    expect(await runGateway({ SANDBOX: 'false', PORT: '0' }, runnerIo)).toBeUndefined();
    expect(io.exitCodes).toEqual([1]);
    expect(io.lines).toEqual(['Invalid configuration:', expect.stringMatching(/^ {2}providers: none is configured and SANDBOX=false/)]);
  });

  it('a sandbox listens on the loopback when HOST is unset (regression: its dev key worked from the network)', async () => {
    const gateway = await createGateway({ LOG_LEVEL: 'error' }, { port: 0, logDestination: new LogCapture(), banner: () => undefined });
    try {
      expect(gateway.sandbox).toBeDefined();
      expect((gateway.app.getHttpServer().address() as AddressInfo).address).toBe('127.0.0.1');
    } finally {
      await gateway.close();
    }
  });

  it('SANDBOX=true with NODE_ENV=production starts, on the loopback, with a warning line', async () => {
    const logs = new LogCapture();
    const gateway = await createGateway(
      { NODE_ENV: 'production', SANDBOX: 'true', GATEWAY_API_KEYS: KEY_ALL },
      { port: 0, logDestination: logs, banner: () => undefined },
    );
    try {
      expect((gateway.app.getHttpServer().address() as AddressInfo).address).toBe('127.0.0.1');
      expect(jsonLines(logs.text())).toContainEqual(
        expect.objectContaining({
          level: 40,
          msg: expect.stringMatching(/^SANDBOX=true with NODE_ENV=production: these providers are answered by the embedded emulators/),
        }),
      );
    } finally {
      await gateway.close();
    }
  });
});

describe('start-up as a process', () => {
  let emulators: ProviderEmulators;
  let blocker: Server;
  let busyPort: number;
  const scratch = scratchDir('startup-');
  beforeAll(async () => {
    emulators = await startProviderEmulators();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busyPort = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await emulators.close();
    scratch.remove();
  });

  it('PORT in use: one readable line on stderr, exit 1, and no success line before it (regression: "successfully started", then the error)', async () => {
    const gateway = gatewayProcess({
      ...emulatorEnv(emulators),
      ENV_FILE: scratch.envFile('empty.env', {}),
      PORT: String(busyPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    const { code } = await gateway.exited;
    expect(code).toBe(1);
    expect(gateway.stderr()).toBe(
      `The gateway could not start: 127.0.0.1:${busyPort} is already in use (set PORT, or HOST, to a free one)\n`,
    );
    expect(gateway.stdout()).not.toMatch(/successfully started|gateway listening|EADDRINUSE/);
  }, 60_000);

  it('an ENV_FILE that cannot be read: one line naming it, exit 1', async () => {
    const gateway = gatewayProcess({ ENV_FILE: `${scratch.dir}/missing.env` });
    expect((await gateway.exited).code).toBe(1);
    expect(gateway.stderr()).toBe(`Invalid configuration:\n  ENV_FILE: cannot read ${scratch.dir}/missing.env (ENOENT)\n`);
  }, 60_000);

  it('logs JSON when pino-pretty cannot be resolved and NODE_ENV is unset (regression: "Cannot find package pino-pretty")', async () => {
    const port = await freePort();
    const env = {
      ...emulatorEnv(emulators),
      ENV_FILE: scratch.envFile('empty2.env', {}),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const gateway = gatewayProcess(env, [NO_PINO_PRETTY]);
    try {
      await waitForHealth(`http://127.0.0.1:${port}/health`, gateway);
      gateway.child.kill('SIGTERM');
      expect((await gateway.exited).code).toBe(0);
      const lines = gateway.stdout().trim().split('\n');
      expect(lines.length).toBeGreaterThan(3);
      expect(lines.map((line) => JSON.parse(line) as { msg: string })).toContainEqual(
        expect.objectContaining({ msg: 'gateway listening' }),
      );
      expect(gateway.stderr()).toBe('');
    } finally {
      gateway.kill();
    }
  }, 60_000);
  it('the listening line names the address really bound (regression: 0.0.0.0 was shown as 127.0.0.1)', async () => {
    const port = await freePort();
    const env = { ...emulatorEnv(emulators), ENV_FILE: scratch.envFile('any.env', {}), PORT: String(port), HOST: '0.0.0.0' };
    const gateway = gatewayProcess({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'info' });
    try {
      await waitForHealth(`http://127.0.0.1:${port}/health`, gateway);
      // The log is written asynchronously: the line may follow the first answer.
      const listening = () => jsonLines(gateway.stdout()).find((l) => l.msg === 'gateway listening');
      await waitUntil(() => listening() !== undefined, 'the listening line');
      expect(listening()).toMatchObject({ address: `0.0.0.0:${port}`, url: `http://127.0.0.1:${port}` });
    } finally {
      gateway.kill();
    }
  }, 60_000);
});
