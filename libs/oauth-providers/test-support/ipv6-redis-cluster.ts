import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../../test/support/helpers.js';

export interface Ipv6RedisCluster {
  /** The node as an operator writes it: `[::1]:<port>`. */
  node: string;
  port: number;
  stop(): Promise<void>;
}

/** A spare port on the IPv6 loopback, or undefined when this host has none. */
function freeIpv6Port(): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(0, '::1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A one-node Redis Cluster (every slot on it) listening on `[::1]` only, announcing itself as
 * `::1`; undefined when the host has no IPv6 loopback or `redis-server` is not on PATH.
 */
export async function startIpv6RedisCluster(): Promise<Ipv6RedisCluster | undefined> {
  const port = await freeIpv6Port();
  if (port === undefined || spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'redis-ipv6-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '::1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--cluster-enabled',
      'yes',
      '--cluster-announce-ip',
      '::1',
    ],
    { stdio: 'ignore', cwd: dir },
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGKILL');
    });
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-h', '::1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';
  try {
    await waitUntil(() => cli('ping').startsWith('PONG'), `redis-server on [::1]:${port}`);
    cli('cluster', 'addslotsrange', '0', '16383');
    await waitUntil(() => cli('cluster', 'info').includes('cluster_state:ok'), `the cluster on [::1]:${port} to be ok`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { node: `[::1]:${port}`, port, stop };
}
