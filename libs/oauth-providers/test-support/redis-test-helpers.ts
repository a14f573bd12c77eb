import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { createRedisConnection } from '../src/stores/redis-connection.js';

/** Polls `condition` every 20 ms; fails with `what` once `timeoutMs` has passed. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A fail-fast client as the gateway builds it, once connected. The command timeout is roomier
 * than production's: suites share two cores, and a timeout would turn into a second fetch.
 */
export async function connectRedis(url: string, commandTimeoutMs = 2000): Promise<Redis | Cluster> {
  const client = createRedisConnection({ url, commandTimeoutMs });
  client.on('error', () => undefined); // connection errors are what some tests cause on purpose
  await waitUntil(() => client.status === 'ready', `Redis at ${url}`);
  return client;
}

/** A name no other suite or run uses: test keys never clash on a shared Redis. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
