import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster, Redis } from 'ioredis';
import { createRedisConnection } from '@oauth-gateway/oauth-providers/redis';
import { connectRedis, uniqueName } from '../../../../libs/oauth-providers/test-support/redis-test-helpers.js';
import { freePort, waitUntil } from '../../../../test/support/helpers.js';
import { startRedisServer, type PrivateRedisServer } from '../../../../scripts/redis-server.mjs';
import { Caller } from '../auth/api-keys.js';
import { InMemoryRateLimiter } from './in-memory.rate-limiter.js';
import { parseRateLimit } from '../config/rate-limit.policy.js';
import { RedisRateLimiter } from './redis.rate-limiter.js';

const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;
const caller = (limit: string) => new Caller(uniqueName('rl'), '*', parseRateLimit(limit));

describeRedis('RedisRateLimiter (the Lua script on a real Redis)', () => {
  const clients: Array<Redis | Cluster> = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) clients.push(await connectRedis(process.env.TEST_REDIS_URL!));
  });
  afterAll(async () => {
    for (const client of clients) await client.quit();
  });

  it('admits a burst of N and then refuses, saying how long to wait', async () => {
    const limiter = new RedisRateLimiter(clients[0], new InMemoryRateLimiter());
    const key = caller('3/m');
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.take(key));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    // The next request is due one interval (20 s) after the first, less the time these took.
    expect(decisions[3].waitMs).toBeGreaterThan(10_000);
    expect(decisions[3].waitMs).toBeLessThanOrEqual(20_000);
    expect(limiter.isDegraded()).toBe(false);
    // The bucket expires by itself once it would be full again.
    const ttl = await clients[0].pttl(key.bucket);
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(60_001);
  });

  it('shares one bucket between two instances hammering it at once: never more than N + rate × elapsed', async () => {
    const [a, b] = clients.map((client) => new RedisRateLimiter(client, new InMemoryRateLimiter()));
    const key = caller('10/m');
    const started = Date.now();
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take(key)));
    const elapsedMs = Date.now() - started;
    const admitted = decisions.filter((d) => d.allowed).length;
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + Math.floor((elapsedMs * 10) / 60_000) + 1);
    expect(a.isDegraded() || b.isDegraded()).toBe(false);
  });

  it('keys carry the {name} hash tag, so a Cluster keeps each bucket in one slot', () => {
    const key = new Caller('partner-a', '*', parseRateLimit('5/s'));
    expect(key.bucket).toBe('gateway:ratelimit:{partner-a}:5/s');
  });
});

describe('RedisRateLimiter without Redis', () => {
  it('limits each instance on its own with the full limit, and reports degraded', async () => {
    const client = createRedisConnection({ url: `redis://127.0.0.1:${await freePort()}` });
    client.on('error', () => undefined);
    try {
      const limiter = new RedisRateLimiter(client, new InMemoryRateLimiter());
      const key = caller('2/m');
      const decisions = [await limiter.take(key), await limiter.take(key), await limiter.take(key)];
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
      expect(limiter.isDegraded()).toBe(true);
      expect(limiter.shared).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describeRedis('RedisRateLimiter while Redis hangs (a private redis-server stopped with SIGSTOP)', () => {
  let server: PrivateRedisServer;
  let client: Redis | Cluster;
  let now = 0;
  let limiter: RedisRateLimiter;
  beforeAll(async () => {
    server = await startRedisServer();
    client = createRedisConnection({ url: server.url, commandTimeoutMs: 200 });
    client.on('error', () => undefined);
    await waitUntil(() => client.status === 'ready', 'the connection');
    limiter = new RedisRateLimiter(client, new InMemoryRateLimiter(), { clock: () => now });
  });
  afterAll(async () => {
    server.child.kill('SIGCONT');
    client.disconnect();
    await server.stop();
  });

  it('after a failure, limits locally at once and lets one request at a time, once a second, test Redis', async () => {
    const key = caller('100/s');
    expect((await limiter.take(key)).allowed).toBe(true);
    server.child.kill('SIGSTOP');
    try {
      expect((await limiter.take(key)).allowed).toBe(true); // pays the command timeout, then limited locally
      expect([limiter.isDegraded(), limiter.health.timeouts]).toEqual([true, 1]);
      for (let i = 0; i < 20; i++) await limiter.take(key);
      expect(limiter.health.timeouts).toBe(1); // none of them went to Redis

      now += 1000;
      let probed = false;
      const probe = limiter.take(key).then(() => (probed = true));
      const others = await Promise.all(Array.from({ length: 20 }, () => limiter.take(key)));
      expect(others.every((d) => d.allowed)).toBe(true);
      expect(probed).toBe(false); // the others were answered while the probe still waited on Redis
      await probe;
      expect(limiter.health.timeouts).toBe(2);
    } finally {
      server.child.kill('SIGCONT');
    }
    now += 1000;
    await limiter.take(key);
    expect(limiter.isDegraded()).toBe(false);
  });

  it('a script Redis runs after its caller gave up changes nothing: that request was limited locally', async () => {
    const key = caller('5/m');
    await limiter.take(caller('5/m')); // Redis answers: its clock is known
    now += 1000;
    server.child.kill('SIGSTOP');
    try {
      expect((await limiter.take(key)).allowed).toBe(true); // timed out, limited locally
      await sleep(200); // the hang outlasts the caller's deadline well
    } finally {
      server.child.kill('SIGCONT');
    }
    expect(await client.ping()).toBe('PONG'); // answered after the late script ran
    expect(await client.exists(key.bucket)).toBe(0);
  });
});
