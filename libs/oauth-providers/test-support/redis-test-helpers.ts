import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { waitUntil } from '../../../test/support/helpers.js';
import { createRedisConnection } from '../src/stores/redis-connection.js';

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
