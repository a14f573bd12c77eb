import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { jsonLines, ROOT, runProcess, scratchDir, startProcess, waitForHealth, type RunningProcess } from '../support/processes.js';
import { freePort, holdPort, waitUntil, type HeldPort } from '../support/helpers.js';

/**
 * The npm scripts as an operator (or a container runtime, or systemd) runs them: the signal goes
 * to the npm process, the only one they know about. Needs `dist/` (scripts/test.mjs builds it).
 */
describe('npm scripts', () => {
  let emulators: ProviderEmulators;
  const scratch = scratchDir('npm-scripts-');
  const running: RunningProcess[] = [];
  const start = (...args: Parameters<typeof startProcess>) => {
    const p = startProcess(...args);
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    emulators = await startProviderEmulators();
  });
  afterAll(async () => {
    running.forEach((p) => p.kill());
    await emulators.close();
    scratch.remove();
  });

  /** The gateway's configuration, handed over as ENV_FILE (a developer's own `.env` stays out of it). */
  const gatewayEnvFile = (port: number) =>
    scratch.envFile(`gateway-${port}.env`, {
      ...emulatorEnv(emulators),
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
    });

  describe.each([
    ['start:prod', 'SIGTERM'],
    ['start', 'SIGINT'],
  ] as const)('npm run %s, %s sent to npm (regression: kill <npm pid> left the gateway running)', (script, signal) => {
    it('shuts the gateway down gracefully and exits 0', async () => {
      const port = await freePort();
      const gateway = start('npm', ['run', '-s', script], { env: { ENV_FILE: gatewayEnvFile(port) } });
      await waitForHealth(`http://127.0.0.1:${port}/health`, gateway, 90_000);
      expect((await fetch(`http://127.0.0.1:${port}/prio/hello`, { headers: { 'x-api-key': KEY_ALL } })).status).toBe(200);

      gateway.child.kill(signal);
      expect(await gateway.exited).toEqual({ code: 0, signal: null });
      const messages = jsonLines(gateway.stdout()).map((line) => line.msg);
      expect(messages).toContain('shutting down: no new connections, finishing in-flight requests');
      expect(messages.at(-1)).toBe('gateway stopped');
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    }, 120_000);
  });

  // A terminal's Ctrl-C, bash's `kill %1` and systemd's default KillMode signal the whole process group:
  // node gets the signal directly and again through npm, and the repeat is not a second signal.
  it('npm run start:prod, SIGTERM sent to its process group: drains once, answers the request in flight, exits 0', async () => {
    const port = await freePort();
    const gateway = start('npm', ['run', '-s', 'start:prod'], { env: { ENV_FILE: gatewayEnvFile(port) }, detached: true });
    await waitForHealth(`http://127.0.0.1:${port}/health`, gateway, 90_000);
    const before = emulators.apiRequests('prio');
    const slow = fetch(`http://127.0.0.1:${port}/prio/slow/1500`, { headers: { 'x-api-key': KEY_ALL } });
    await waitUntil(() => emulators.apiRequests('prio') > before, 'the slow request to reach the provider', 30_000);

    process.kill(-gateway.child.pid!, 'SIGTERM');
    expect((await slow).status).toBe(200);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(jsonLines(gateway.stdout()).at(-1)?.msg).toBe('gateway stopped');
  }, 120_000);

  it('npm run emulators, SIGTERM sent to its process group: exits 0 (regression: the repeat killed them, 143)', async () => {
    const port = await freePort();
    const envFile = join(scratch.dir, 'emulators-group.env');
    const run = start('npm', ['run', '-s', 'emulators', '--', '--port', String(port), '--write-env', envFile], { detached: true });
    await waitUntil(() => existsSync(envFile) || run.child.exitCode !== null, 'the env file', 60_000);
    process.kill(-run.child.pid!, 'SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  describe('npm run emulators', () => {
    it('writes its env file only where told, and stops on SIGTERM to npm with exit 0', async () => {
      const port = await freePort();
      const envFile = join(scratch.dir, 'emulators.env');
      const dotenv = join(ROOT, '.env');
      const dotenvBefore = existsSync(dotenv) ? statSync(dotenv).mtimeMs : undefined;
      const run = start('npm', ['run', '-s', 'emulators', '--', '--port', String(port), '--write-env', envFile]);
      // Written once the emulators listen, whole (renamed into place).
      await waitUntil(() => existsSync(envFile) || run.child.exitCode !== null, 'the env file', 60_000);
      const written = readFileSync(envFile, 'utf8');
      expect(written).toContain(`PRIO_TOKEN_URL='http://127.0.0.1:${port}/`);
      expect(written).toMatch(/^GATEWAY_API_KEYS='dev-[\w-]+'$/m);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(existsSync(dotenv) ? statSync(dotenv).mtimeMs : undefined).toBe(dotenvBefore);

      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      // The key is in the file for whoever needs it, never printed.
      const key = /GATEWAY_API_KEYS='([^']+)'/.exec(written)![1];
      expect(run.stdout() + run.stderr()).not.toContain(key);
    }, 60_000);

    describe('when the port is taken', () => {
      let held: HeldPort;
      beforeAll(async () => (held = await holdPort()));
      afterAll(() => held.close());

      it('says so in one line and exits 1 (regression: a raw EADDRINUSE stack)', async () => {
        const result = await runProcess('npm', ['run', '-s', 'emulators', '--', '--port', String(held.port)]);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(`provider emulators: 127.0.0.1:${held.port} is already in use (pick another with --port)\n`);
      }, 60_000);
    });
  });

  describe('npm run -s token', () => {
    it('prints only the token on stdout, fit for $(...)', async () => {
      emulators.reset();
      const envFile = scratch.envFile('token.env', emulatorEnv(emulators));
      const result = await runProcess('npm', ['run', '-s', 'token', '--', 'token', 'prio'], { env: { ENV_FILE: envFile } });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^[^\s]+\n$/);
      expect(emulators.tokenRequests('prio')).toHaveLength(1);
      const res = await fetch(`${emulators.apiUrl('prio')}/echo`, { headers: { authorization: `Bearer ${result.stdout.trim()}` } });
      expect(res.status).toBe(200);
    }, 60_000);

    it('prints usage on stderr with exit 2 and nothing on stdout (regression: usage on stdout)', async () => {
      const result = await runProcess('npm', ['run', '-s', 'token']);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^Usage: npm run -s token/);
    }, 60_000);
  });
});
