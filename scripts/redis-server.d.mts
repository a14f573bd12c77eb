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
/** A redis-server from PATH on `port` (default: a spare one), with extra arguments, run in `cwd`; rejects if none starts. */
export function startRedisServer(port?: number, extraArgs?: string[], cwd?: string): Promise<PrivateRedisServer>;

/** True when both `redis-server` and `redis-cli` are on PATH. */
export function redisToolsOnPath(): boolean;

export interface PrivateRedisCluster {
  /** `host:port` of every master. */
  nodes: string[];
  /** Kills every node and removes their files. */
  stop(): Promise<void>;
}

/** A throw-away Redis Cluster of `size` masters on spare loopback ports. */
export function startRedisCluster(size?: number): Promise<PrivateRedisCluster>;
