import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import { createRedisConnection } from '@oauth-gateway/oauth-providers/redis';
import { startRedisCluster, type PrivateRedisCluster } from '../../../../scripts/redis-server.mjs';
import { Caller } from '../auth/api-keys.js';
import { InMemoryRateLimiter } from './in-memory.rate-limiter.js';
import { parseRateLimit } from '../config/rate-limit.policy.js';
import { RedisRateLimiter } from './redis.rate-limiter.js';
import { waitUntil } from '../../../../test/support/helpers.js';

// `npm test` sets TEST_REDIS_CLUSTER when redis-server and redis-cli can build a throw-away Cluster.
const describeCluster = process.env.TEST_REDIS_CLUSTER ? describe : describe.skip;

describeCluster('RedisRateLimiter on a Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  const clients: Cluster[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    for (let i = 0; i < 2; i++) {
      const client = createRedisConnection({ clusterNodes: cluster.nodes, commandTimeoutMs: 2000 }) as Cluster;
      client.on('error', () => undefined);
      await waitUntil(() => client.status === 'ready', 'the Cluster client');
      clients.push(client);
    }
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  it('runs the script in the slot of each key name, and two instances share each bucket', async () => {
    const [a, b] = clients.map((client) => new RedisRateLimiter(client, new InMemoryRateLimiter()));
    // Names spread over the three masters' slots.
    const callers = ['partner-a', 'partner-b', 'ops.team_1'].map((name) => new Caller(name, '*', parseRateLimit('2/m')));
    for (const caller of callers) {
      expect(await clients[0].cluster('KEYSLOT', caller.bucket)).toBe(await clients[0].cluster('KEYSLOT', caller.name));
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await (i % 2 ? a : b).take(caller));
      // 2/m: a burst of 2, the next one 30 s later, far beyond these four calls.
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false]);
    }
    expect(a.isDegraded() || b.isDegraded()).toBe(false);
  });
});
