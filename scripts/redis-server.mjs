// Starting and probing a throw-away redis-server, shared by `npm test` and the Redis suites
// (which also kill one mid-run to prove degradation).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves true when something at `url` answers PING with PONG within 500 ms. */
export function redisAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` from PATH on a spare loopback port; rejects if there is none. */
export async function startRedisServer(port, { args: extraArgs = [], cwd, configFile } = {}) {
  port ??= await freePort();
  // A configuration file, when given, must come first; a Sentinel refuses persistence options.
  const persistence = configFile ? [] : ['--save', '', '--appendonly', 'no'];
  const args = [...(configFile ? [configFile] : []), ...extraArgs, '--port', String(port), '--bind', '127.0.0.1', ...persistence];
  const child = spawn('redis-server', args, { stdio: 'ignore', cwd });
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', resolve);
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(url))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${port}`);
  }
  return {
    url,
    port,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** True when both `redis-server` and `redis-cli` (which builds a Cluster) are on PATH. */
export function redisToolsOnPath() {
  return ['redis-server', 'redis-cli'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
}

/**
 * Runs `build(dir, servers)` with a throw-away folder; `stop()` of what it returns kills every
 * server it pushed to `servers` and removes the folder, which also happens if `build` fails.
 */
async function throwAway(prefix, build) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const servers = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { ...(await build(dir, servers)), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A throw-away Redis Cluster of `size` masters (no replicas) on spare loopback ports, built with
 * `redis-cli --cluster create`; resolves once every node reports `cluster_state:ok`.
 */
export function startRedisCluster(size = 3) {
  return throwAway('redis-cluster-', async (dir, servers) => {
    for (let i = 0; i < size; i++) {
      // Each node writes its own nodes-<port>.conf into the throw-away folder.
      const port = await freePort();
      servers.push(
        await startRedisServer(port, { args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`], cwd: dir }),
      );
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    for (const server of servers) {
      for (let i = 0; ; i++) {
        const info = spawnSync('redis-cli', ['-p', String(server.port), 'cluster', 'info'], { encoding: 'utf8' });
        if (info.stdout.includes('cluster_state:ok')) break;
        if (i > 200) throw new Error(`Redis Cluster node ${server.port} never reached cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return { nodes };
  });
}

/**
 * A throw-away master and one Sentinel watching it as `name`, on spare loopback ports. The
 * Sentinel rewrites its configuration file, so it lives in a throw-away folder.
 */
export function startRedisSentinel(name = 'mymaster') {
  return throwAway('redis-sentinel-', async (dir, servers) => {
    const master = await startRedisServer();
    servers.push(master);
    const port = await freePort();
    writeFileSync(join(dir, 'sentinel.conf'), `sentinel monitor ${name} 127.0.0.1 ${master.port} 1\n`);
    servers.push(await startRedisServer(port, { args: ['--sentinel'], cwd: dir, configFile: 'sentinel.conf' }));
    return { sentinels: [`127.0.0.1:${port}`], name, master };
  });
}
