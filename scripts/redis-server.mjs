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
 * A throw-away Redis Cluster of `size` masters, each with `replicas` replicas (default none), on
 * spare loopback ports, built with `redis-cli --cluster create`; resolves once every node reports
 * `cluster_state:ok`. `nodeTimeoutMs` is how long a master may be silent before a replica takes over.
 */
export function startRedisCluster(size = 3, { replicas = 0, nodeTimeoutMs = 15_000 } = {}) {
  return throwAway('redis-cluster-', async (dir, servers) => {
    for (let i = 0; i < size * (1 + replicas); i++) {
      // Each node writes its own nodes-<port>.conf into the throw-away folder.
      const port = await freePort();
      const args = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        // Redis 7 waits 5 s before a diskless full sync to gather replicas; these replicas come at once.
        '--repl-diskless-sync-delay',
        '0',
      ];
      servers.push(await startRedisServer(port, { args, cwd: dir }));
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicas), '--cluster-yes'], {
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
    // A replica that has never finished its first sync refuses to fail over (its data counts as too old),
    // so the cluster is handed out only once every replica's link to its master is up.
    for (let i = 0; ; i++) {
      const synced = servers.filter((server) =>
        spawnSync('redis-cli', ['-p', String(server.port), 'info', 'replication'], { encoding: 'utf8' }).stdout.includes(
          'master_link_status:up',
        ),
      ).length;
      if (synced === size * replicas) break;
      if (i > 400) throw new Error(`Redis Cluster: ${synced} of ${size * replicas} replicas finished their first sync`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { nodes, servers: [...servers] };
  });
}

/**
 * A throw-away master, `replicas` replicas of it (default none) and one Sentinel watching it as
 * `name`, on spare loopback ports; with replicas, the Sentinel fails over once the master has been
 * silent for `downAfterMs`. The Sentinel rewrites its configuration file, so it lives in a
 * throw-away folder.
 */
export function startRedisSentinel(name = 'mymaster', { replicas = 0, downAfterMs = 30_000 } = {}) {
  return throwAway('redis-sentinel-', async (dir, servers) => {
    const master = await startRedisServer();
    servers.push(master);
    const replicaServers = [];
    for (let i = 0; i < replicas; i++) {
      // A replica writes the copy it receives to its working directory.
      const replica = await startRedisServer(undefined, { args: ['--replicaof', '127.0.0.1', String(master.port)], cwd: dir });
      servers.push(replica);
      replicaServers.push(replica);
    }
    const port = await freePort();
    writeFileSync(
      join(dir, 'sentinel.conf'),
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1\n` +
        `sentinel down-after-milliseconds ${name} ${downAfterMs}\nsentinel failover-timeout ${name} ${Math.max(downAfterMs * 2, 5000)}\n`,
    );
    servers.push(await startRedisServer(port, { args: ['--sentinel'], cwd: dir, configFile: 'sentinel.conf' }));
    // The Sentinel learns of the replicas from the master's INFO: only then can it fail over.
    for (let i = 0; replicas > 0; i++) {
      const known = spawnSync('redis-cli', ['-p', String(port), 'sentinel', 'replicas', name], { encoding: 'utf8' });
      const linked = replicaServers.every((r) =>
        spawnSync('redis-cli', ['-p', String(r.port), 'info', 'replication'], { encoding: 'utf8' }).stdout.includes(
          'master_link_status:up',
        ),
      );
      if (linked && (known.stdout.match(/^name$/gm) ?? []).length >= replicas) break;
      if (i > 400) throw new Error('the Sentinel never saw the replicas');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { sentinels: [`127.0.0.1:${port}`], name, master, replicas: replicaServers };
  });
}
