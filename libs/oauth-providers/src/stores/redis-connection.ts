import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** One server: `redis://[:password@]host:port[/db]` (`rediss://` for TLS). */
  url?: string;
  /** Redis Cluster seed nodes, `host:port` each. */
  clusterNodes?: string[];
  /** Sentinels, `host:port` each; needs `sentinelName`. */
  sentinels?: string[];
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
    return new Cluster(opts.clusterNodes.map(hostPort), {
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
      sentinels: opts.sentinels.map(hostPort),
      name: opts.sentinelName,
      retryStrategy: reconnectDelay,
      sentinelRetryStrategy: reconnectDelay,
    });
  }
  if (!opts.url) throw new Error('Redis connection needs a url, clusterNodes or sentinels');
  return new Redis(opts.url, { ...perNode, enableOfflineQueue, retryStrategy: reconnectDelay });
}

/** `host:port` or `redis://host:port` to what ioredis wants for a node or a sentinel. */
function hostPort(node: string): { host: string; port: number } {
  const url = new URL(node.includes('://') ? node : `redis://${node}`);
  return { host: url.hostname, port: Number(url.port || 6379) };
}
