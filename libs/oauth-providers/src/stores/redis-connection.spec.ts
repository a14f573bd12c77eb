import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startIpv6RedisCluster, type Ipv6RedisCluster } from '../../test-support/ipv6-redis-cluster.js';
import { sampleToken, tokenKey } from '../../test-support/token-store.contract.js';
import { createRedisConnection, redisNodeAddress } from './redis-connection.js';
import { RedisTokenStore } from './redis-token.store.js';

const cluster: Ipv6RedisCluster | undefined = process.env.TEST_REDIS_CLUSTER ? await startIpv6RedisCluster() : undefined;

describe('redisNodeAddress', () => {
  it.each([
    ['r1:7000', { host: 'r1', port: 7000 }],
    ['10.0.0.5:26379', { host: '10.0.0.5', port: 26379 }],
    ['[::1]:7002', { host: '::1', port: 7002 }],
    ['[fd00::2]:7000', { host: 'fd00::2', port: 7000 }],
    ['redis://[::1]:7002', { host: '::1', port: 7002 }],
    ['redis://r1:7000', { host: 'r1', port: 7000 }],
    ['r1', { host: 'r1', port: 6379 }],
  ])('reads %s', (node, address) => {
    expect(redisNodeAddress(node)).toEqual(address);
  });

  it('takes an address as it is, brackets or not', () => {
    expect(redisNodeAddress({ host: '::1', port: 7002 })).toEqual({ host: '::1', port: 7002 });
    expect(redisNodeAddress({ host: '[::1]', port: 7002 })).toEqual({ host: '::1', port: 7002 });
  });

  it('refuses an unbracketed IPv6 address, whose port cannot be told apart, saying how to write it', () => {
    expect(() => redisNodeAddress('::1:7002')).toThrow('[::1]:7000');
  });

  it('refuses what is no address without echoing it (it may hold a password)', () => {
    expect(() => redisNodeAddress('redis://:s3cret-pass@[nope')).toThrow(/host:port/);
    expect(() => redisNodeAddress('redis://:s3cret-pass@[nope')).not.toThrow(/s3cret/);
  });
});

describe('regression: Redis nodes written as [::1]:7002 crashed start-up (parsed twice, as redis://::1:7002)', () => {
  it('builds the sentinel options with the bare IPv6 host', () => {
    const client = createRedisConnection({ sentinels: ['[::1]:26379', { host: '::1', port: 26380 }], sentinelName: 'mymaster' }) as Redis;
    client.on('error', () => undefined);
    try {
      expect(client.options.sentinels).toEqual([
        { host: '::1', port: 26379 },
        { host: '::1', port: 26380 },
      ]);
    } finally {
      client.disconnect();
    }
  });

  // Skipped (not passed) when the host has no IPv6 loopback or the Redis tools are missing.
  const itOnIpv6 = cluster ? it : it.skip;
  afterAll(() => cluster?.stop());

  itOnIpv6('stores and reads a token through clusterNodes given as [::1]:port, on a Redis listening on [::1] only', async () => {
    const store = new RedisTokenStore({ clusterNodes: [cluster!.node], commandTimeoutMs: 2000 });
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
