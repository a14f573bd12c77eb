import { afterAll, describe, expect, it } from '@jest/globals';
import { RedisTokenStore } from '@oauth-gateway/oauth-providers/redis';
import { startIpv6RedisCluster, type Ipv6RedisCluster } from '../../../../libs/oauth-providers/test-support/ipv6-redis-cluster.js';
import { sampleToken, tokenKey } from '../../../../libs/oauth-providers/test-support/token-store.contract.js';
import { parseGatewayConfig } from './parse-config.js';
import { buildTokenStore } from './token-store.factory.js';

const cluster: Ipv6RedisCluster | undefined = process.env.TEST_REDIS_CLUSTER ? await startIpv6RedisCluster() : undefined;
// Skipped (not passed) when the host has no IPv6 loopback or the Redis tools are missing.
const itOnIpv6 = cluster ? it : it.skip;
afterAll(() => cluster?.stop());

describe('buildTokenStore', () => {
  it('is the in-process store (undefined) without Redis', () => {
    expect(buildTokenStore(parseGatewayConfig({}))).toBeUndefined();
  });

  describe('regression: Redis nodes written as [::1]:7002 passed validation, then crashed start-up', () => {
    it.each([
      ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '[::1]:7002,r2:7001' }],
      ['REDIS_SENTINELS', { REDIS_SENTINELS: '[::1]:26379', REDIS_SENTINEL_NAME: 'mymaster' }],
    ])('builds a store from %s with an IPv6 node', async (_name, env) => {
      const store = buildTokenStore(parseGatewayConfig(env));
      expect(store).toBeInstanceOf(RedisTokenStore);
      await store!.close!();
    });

    itOnIpv6('shares tokens through a Redis Cluster listening on [::1] only, configured as REDIS_CLUSTER_NODES=[::1]:port', async () => {
      const store = buildTokenStore(parseGatewayConfig({ REDIS_CLUSTER_NODES: cluster!.node })) as RedisTokenStore;
      try {
        expect(await store.ready(10_000)).toBe(true);
        const key = tokenKey();
        const token = sampleToken();
        await store.set(key, token, 60_000);
        expect(await store.get(key)).toEqual(token);
      } finally {
        await store.close();
      }
    });
  });
});
