// Types for redis-server.mjs, which the Redis suites import to kill and restart a server mid-run.
import type { ChildProcess } from 'node:child_process';

export interface PrivateRedisServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Kills the server (SIGKILL) and resolves once it has exited. */
  stop(): Promise<void>;
}

export function redisAnswers(url: string): Promise<boolean>;
export function freePort(): Promise<number>;
export interface RedisServerOptions {
  /** Extra command-line arguments. */
  args?: string[];
  /** Working directory (where the server writes its files). */
  cwd?: string;
  /** A configuration file, relative to `cwd`. */
  configFile?: string;
}

/** A redis-server from PATH on `port` (default: a spare one); rejects if none starts. */
export function startRedisServer(port?: number, options?: RedisServerOptions): Promise<PrivateRedisServer>;

/** True when both `redis-server` and `redis-cli` are on PATH. */
export function redisToolsOnPath(): boolean;

export interface PrivateRedisCluster {
  /** `host:port` of every node, masters and replicas. */
  nodes: string[];
  /** Every node's server, in the order of `nodes`. */
  servers: PrivateRedisServer[];
  /** Kills every node and removes their files. */
  stop(): Promise<void>;
}

/** A throw-away Redis Cluster of `size` masters (each with `replicas` replicas) on spare loopback ports. */
export function startRedisCluster(size?: number, options?: { replicas?: number; nodeTimeoutMs?: number }): Promise<PrivateRedisCluster>;

export interface PrivateRedisSentinel {
  /** `host:port` of the Sentinel. */
  sentinels: string[];
  /** The master group name it watches. */
  name: string;
  master: PrivateRedisServer;
  replicas: PrivateRedisServer[];
  /** Kills the Sentinel, the master and its replicas and removes their files. */
  stop(): Promise<void>;
}

/** A throw-away master (with `replicas` replicas) and one Sentinel watching it, on spare loopback ports. */
export function startRedisSentinel(name?: string, options?: { replicas?: number; downAfterMs?: number }): Promise<PrivateRedisSentinel>;
