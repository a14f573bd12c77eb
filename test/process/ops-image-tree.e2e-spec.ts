import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { jsonLines, ROOT, runProcess, scratchDir, startProcess, waitForHealth, type RunningProcess } from '../support/processes.js';
import { REPEATED_SIGNAL_MS } from '../../apps/gateway/src/gateway.runner.js';
import { freePort, waitUntil } from '../support/helpers.js';

/**
 * What the Dockerfile ships, without a container engine: scripts/build-image-tree.sh (the
 * Dockerfile's only build step) into a folder, then the gateway started there as the image's CMD
 * starts it, as PID 1 of its own PID namespace (`unshare --pid --fork`), where a signal without a
 * handler is ignored, as in a container.
 */
describe('the container image tree (scripts/build-image-tree.sh)', () => {
  const scratch = scratchDir('image-tree-');
  const tree = join(scratch.dir, 'app');
  let emulators: ProviderEmulators;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    const build = await runProcess('bash', [join(ROOT, 'scripts/build-image-tree.sh'), tree], {
      env: { npm_config_prefer_offline: 'true' },
    });
    if (build.code !== 0) throw new Error(`build-image-tree.sh exited ${build.code}: ${build.stderr}${build.stdout}`);
    emulators = await startProviderEmulators();
  }, 600_000);
  afterAll(async () => {
    running.forEach((p) => p.kill());
    await emulators?.close();
    scratch.remove();
  });

  /** The image's CMD as PID 1, in the tree; returns the process and the gateway's pid (outside the namespace). */
  async function startAsPid1(env: Record<string, string>) {
    const gateway = startProcess('unshare', ['--pid', '--fork', '--kill-child', 'node', 'dist/apps/gateway/src/main.js'], {
      cwd: tree,
      env,
    });
    running.push(gateway);
    await waitForHealth(`http://127.0.0.1:${env.PORT}/health`, gateway);
    const unsharePid = gateway.child.pid!;
    const pid = Number(readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim());
    // "NSpid: <pid here> <pid in its namespace>": the gateway is PID 1 there.
    expect(/^NSpid:\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.slice(1)).toEqual([String(pid), '1']);
    return { gateway, pid };
  }

  const gatewayEnv = (port: number, extra: Record<string, string> = {}) => ({
    ...emulatorEnv(emulators),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    TOKEN_WARM_ON_START: 'true',
    ...extra,
  });

  it('holds the compiled gateway and production dependencies only', () => {
    const installed = (name: string) => existsSync(join(tree, 'node_modules', name));
    const dev = [
      'pino-pretty',
      'jest',
      '@jest/globals',
      'typescript',
      '@swc/core',
      '@swc/jest',
      'fast-check',
      'autocannon',
      '@nestjs/testing',
    ];
    expect(dev.filter(installed)).toEqual([]);
    const runtime = [
      'pino',
      '@nestjs/core',
      '@nestjs/platform-fastify',
      'undici',
      'prom-client',
      'ioredis',
      '@oauth-gateway/oauth-providers',
    ];
    expect(runtime.filter((name) => !installed(name))).toEqual([]);
    expect(existsSync(join(tree, 'dist/apps/gateway/src/main.js'))).toBe(true);
    expect(existsSync(join(tree, 'apps'))).toBe(false);
    expect(readdirSync(join(tree, 'libs/oauth-providers')).sort()).toEqual(['dist', 'package.json']);
  });

  it('starts with NODE_ENV=production, proxies a call, and exits 0 on SIGTERM as PID 1', async () => {
    const port = await freePort();
    const { gateway, pid } = await startAsPid1(gatewayEnv(port, { NODE_ENV: 'production' }));
    const answer = await fetch(`http://127.0.0.1:${port}/prio/products`, { headers: { 'x-api-key': KEY_ALL } });
    expect(answer.status).toBe(200);

    process.kill(pid, 'SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(jsonLines(gateway.stdout()).map((line) => line.msg)).toEqual(expect.arrayContaining(['gateway listening', 'gateway stopped']));
    expect(gateway.stderr()).toBe('');
  }, 120_000);

  it('ends at once on a second SIGTERM during a slow drain, and logs JSON without pino-pretty (NODE_ENV unset)', async () => {
    const port = await freePort();
    const { gateway, pid } = await startAsPid1(gatewayEnv(port, { SHUTDOWN_TIMEOUT_MS: '600000' }));
    const before = emulators.apiRequests('prio');
    // An answer an hour away: the drain would wait for it (up to SHUTDOWN_TIMEOUT_MS, 10 minutes).
    const slow = fetch(`http://127.0.0.1:${port}/prio/slow/3600000`, { headers: { 'x-api-key': KEY_ALL } }).then(
      (res) => res.status,
      () => 'cut',
    );
    await waitUntil(() => emulators.apiRequests('prio') > before, 'the slow request to reach the provider', 30_000);

    process.kill(pid, 'SIGTERM');
    await waitUntil(() => gateway.stdout().includes('shutting down'), 'the drain to start', 30_000);
    // A repeat sooner than REPEATED_SIGNAL_MS after the first is taken for that one signal delivered twice.
    await new Promise((resolve) => setTimeout(resolve, REPEATED_SIGNAL_MS));
    expect(gateway.child.exitCode).toBeNull();
    process.kill(pid, 'SIGTERM');
    expect(await gateway.exited).toEqual({ code: 1, signal: null });
    expect(await slow).toBe('cut');
    // pino-pretty is not installed in the tree: every line is JSON anyway.
    const lines = gateway.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(() => lines.forEach((line) => void JSON.parse(line))).not.toThrow();
  }, 120_000);
});
