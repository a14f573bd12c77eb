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
/** A redis-server from PATH on `port` (default: a spare one); rejects if none starts. */
export function startRedisServer(port?: number): Promise<PrivateRedisServer>;
