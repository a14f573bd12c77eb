import { isIPv6 } from 'node:net';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A Redis node's address; an IPv6 host is written without brackets (`::1`). */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** What `createRedisConnection` takes: one Redis URL, a Cluster or a Sentinel set, and how long a command may take. */
export interface RedisConnectionOptions {
  /** One server: `redis://[:password@]host:port[/db]` (`rediss://` for TLS). */
  url?: string;
  /** Redis Cluster seed nodes: addresses, or `host:port` strings (`[::1]:7000` for IPv6). */
  clusterNodes?: Array<string | RedisNodeAddress>;
  /** Sentinels, as cluster nodes are given; needs `sentinelName`. */
  sentinels?: Array<string | RedisNodeAddress>;
  /** The master group name the sentinels watch. */
  sentinelName?: string;
  password?: string;
  /** A command without an answer within this fails (default 200 ms). */
  commandTimeoutMs?: number;
}

/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * A client tuned for a token store, where Redis is an optimisation and never a dependency: every
 * command fails fast when Redis is down or slow (the service then works from its local copy),
 * and the client keeps reconnecting in the background by itself.
 */
export function createRedisConnection(opts: RedisConnectionOptions): Redis | Cluster {
  const perNode = {
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 200,
    connectTimeout: 2000,
    ...(opts.password !== undefined && { password: opts.password }),
  } satisfies RedisOptions;
  // Commands are rejected at once while disconnected instead of queueing until Redis returns.
  const enableOfflineQueue = false;
  // Never gives up (a null delay would stop reconnecting for good); capped exponential backoff.
  const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), MAX_RECONNECT_DELAY_MS);

  if (opts.clusterNodes?.length) {
    return new Cluster(opts.clusterNodes.map(redisNodeAddress), {
      enableOfflineQueue,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: perNode,
    });
  }
  if (opts.sentinels?.length) {
    if (!opts.sentinelName) throw new Error('Redis sentinels given without the master name (sentinelName)');
    return new Redis({
      ...perNode,
      enableOfflineQueue,
      sentinels: opts.sentinels.map(redisNodeAddress),
      name: opts.sentinelName,
      retryStrategy: reconnectDelay,
      sentinelRetryStrategy: reconnectDelay,
    });
  }
  if (!opts.url) throw new Error('Redis connection needs a url, clusterNodes or sentinels');
  return new Redis(opts.url, { ...perNode, enableOfflineQueue, retryStrategy: reconnectDelay });
}

/**
 * A node as ioredis wants it, from an address or from `host:port`, `[ipv6]:port` (RFC 3986 §3.2.2)
 * or `redis://host:port`; the port defaults to 6379. The node is never echoed: it may carry a password.
 */
export function redisNodeAddress(node: string | RedisNodeAddress): RedisNodeAddress {
  if (typeof node !== 'string') return { host: unbracketed(node.host), port: node.port };
  // An unbracketed IPv6 address cannot be told from a port: `::1:7002` is one address.
  if (!node.includes('://') && !node.startsWith('[') && node.indexOf(':') !== node.lastIndexOf(':')) {
    throw new Error('a Redis node with an IPv6 address must bracket it, as in [::1]:7000');
  }
  let url: URL;
  try {
    url = new URL(node.includes('://') ? node : `redis://${node}`);
  } catch {
    throw new Error('a Redis node must be host:port, [ipv6]:port or redis://host:port');
  }
  return { host: unbracketed(url.hostname), port: Number(url.port || 6379) };
}

/** WHATWG URLs keep the brackets of an IPv6 host; ioredis wants the bare address. */
function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1)) ? host.slice(1, -1) : host;
}
