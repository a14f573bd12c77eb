import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster, Redis } from 'ioredis';
import { startRedisServer } from '../../../../scripts/redis-server.mjs';
import { freePort, waitUntil } from '../../../../test/support/helpers.js';
import { connectRedis } from '../../test-support/redis-test-helpers.js';
import { describeTokenStoreContract, sampleToken, tokenKey } from '../../test-support/token-store.contract.js';
import type { RedisConnectionOptions } from './redis-connection.js';
import { RedisTokenStore } from './redis-token.store.js';

const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

const keyA = randomBytes(32);
const keyB = randomBytes(32);

const token = sampleToken;

// On a private server, which the fault cases hang with SIGSTOP and resume with SIGCONT.
describeTokenStoreContract(
  'RedisTokenStore',
  async () => {
    const server = await startRedisServer();
    const redis = await connectRedis(server.url);
    const opened: RedisTokenStore[] = [];
    const open = (client: Redis | Cluster | RedisConnectionOptions, options: ConstructorParameters<typeof RedisTokenStore>[1]) => {
      const s = new RedisTokenStore(client, options);
      opened.push(s);
      return s;
    };
    return {
      store: open(redis, { encryptionKey: keyA }),
      // Wakes up only through pub/sub within the test's bounds.
      peer: () => open(redis, { encryptionKey: keyA, pollIntervalMs: 60_000 }),
      untilWaiting: (key) => waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe'),
      faults: {
        hang: async () => {
          server.child.kill('SIGSTOP');
          return async () => void server.child.kill('SIGCONT');
        },
        impatient: async () => {
          const s = open({ url: server.url, commandTimeoutMs: 200 }, { encryptionKey: keyA });
          await s.ready(10_000);
          return s;
        },
      },
      close: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await redis.quit();
        await server.stop();
      },
    };
  },
  { skip: !process.env.TEST_REDIS_URL, faults: true },
);

describeRedis('RedisTokenStore', () => {
  let redis: Redis | Cluster;
  let store: RedisTokenStore;
  const stores: RedisTokenStore[] = [];
  const storeWith = (options: ConstructorParameters<typeof RedisTokenStore>[1]) => {
    const s = new RedisTokenStore(redis, options);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await connectRedis(process.env.TEST_REDIS_URL!);
    store = storeWith({ encryptionKey: keyA });
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis.quit();
  });

  it('sets the Redis key to expire after the TTL given', async () => {
    const key = tokenKey();
    await store.set(key, token(), 300);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(300);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  describe('encryption at rest', () => {
    it('never writes the access token or the refresh token in clear', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      const raw = (await redis.get(key))!;
      expect(raw).not.toContain(t.accessToken);
      expect(raw).not.toContain(t.refreshToken);
      expect(raw).not.toContain(createHash('sha256').update(t.accessToken).digest('base64url'));
      expect(Object.keys(JSON.parse(raw) as object).sort()).toEqual(['fp', 'sealed']);
    });

    it('reads with the key given in any accepted form', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      expect(await storeWith({ encryptionKey: keyA.toString('hex') }).get(key)).toEqual(t);
      expect(await storeWith({ encryptionKey: keyA.toString('base64') }).get(key)).toEqual(t);
    });

    it('after a key rotation, still reads and matches entries sealed with the previous key', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      const rotated = storeWith({ encryptionKey: keyB, previousKeys: [keyA] });
      expect(await rotated.get(key)).toEqual(t);
      expect(await rotated.deleteIfEqual(key, t.accessToken)).toBe(true);

      const next = token();
      await rotated.set(key, next, 60_000);
      expect(await rotated.get(key)).toEqual(next);
      expect(await store.get(key)).toBeUndefined(); // an instance still on the old key only
    });

    it('treats an entry it cannot open as missing: wrong key, tampered, or clear text', async () => {
      const key = tokenKey();
      await store.set(key, token(), 60_000);
      expect(await storeWith({ encryptionKey: keyB }).get(key)).toBeUndefined();
      expect(await storeWith({}).get(key)).toBeUndefined();

      const value = JSON.parse((await redis.get(key))!) as { sealed: string };
      const flipped = value.sealed.slice(0, -2) + (value.sealed.endsWith('AA') ? 'BB' : 'AA');
      await redis.set(key, JSON.stringify({ ...value, sealed: flipped }), 'PX', 60_000);
      expect(await store.get(key)).toBeUndefined();

      await storeWith({}).set(key, token(), 60_000);
      expect(await store.get(key)).toBeUndefined();
      await redis.set(key, 'not json', 'PX', 60_000);
      expect(await store.get(key)).toBeUndefined();
    });

    it('without a key, stores plain JSON (the gateway refuses that in production)', async () => {
      const key = tokenKey();
      const t = token();
      const plain = storeWith({});
      await plain.set(key, t, 60_000);
      expect((JSON.parse((await redis.get(key))!) as { token: unknown }).token).toEqual(t);
      expect(await plain.get(key)).toEqual(t);
      expect(await plain.deleteIfEqual(key, t.accessToken)).toBe(true);
    });
  });

  describe('connections', () => {
    it('fails fast and reports degraded when Redis is not there', async () => {
      const absent = new RedisTokenStore({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 200 });
      const started = Date.now();
      await expect(absent.get(tokenKey())).rejects.toThrow();
      await expect(absent.lock(tokenKey(), 1000)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(absent.isDegraded()).toBe(true);
      await absent.close();
    });

    it('shows a hung server while idle (degraded, timeouts counted) and recovers once it answers', async () => {
      const server = await startRedisServer();
      const idle = new RedisTokenStore({ url: server.url, commandTimeoutMs: 200 });
      try {
        expect(await idle.ready(10_000)).toBe(true);
        await idle.get(tokenKey()); // a token key the heartbeat then looks at
        server.child.kill('SIGSTOP');
        await waitUntil(() => idle.isDegraded(), 'the hang to show');
        expect(idle.health.timeouts).toBeGreaterThan(0);
        server.child.kill('SIGCONT');
        await waitUntil(() => !idle.isDegraded(), 'the store to recover');
      } finally {
        server.child.kill('SIGCONT');
        await idle.close();
        await server.stop();
      }
    });

    it("close() closes its subscriber and leaves the caller's client open", async () => {
      const key = tokenKey();
      const own = new RedisTokenStore(redis, { encryptionKey: keyA });
      await store.lock(key, 10_000);
      const waiting = own.waitFor(key, 20_000);
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe');
      await own.close();
      expect(await waiting).toBeUndefined();
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) === 0, 'the subscriber to close');
      expect(redis.status).toBe('ready');
      expect(own.isDegraded()).toBe(false);
    });
  });
});

async function numSub(redis: Redis | Cluster, channel: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return Number(count);
}
